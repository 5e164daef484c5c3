#include "remote/sha256.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <fstream>
#include <memory>
#include <vector>

namespace vectorize::remote {
namespace {

using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

std::string Hex(const unsigned char* d, unsigned n) {
  std::string out;
  out.reserve(n * 2);
  for (unsigned i = 0; i < n; ++i) out += fmt::format("{:02x}", d[i]);
  return out;
}

Result<std::string> DigestFile(const EVP_MD* md, const std::filesystem::path& path,
                               std::string_view prefix_fmt,
                               const std::function<bool()>& cancelled) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(Error::Internal("cannot read " + path.string()));
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), md, nullptr);
  if (!prefix_fmt.empty()) {
    std::error_code ec;
    auto size = std::filesystem::file_size(path, ec);
    std::string prefix = fmt::format("blob {}", size);
    prefix.push_back('\0');
    EVP_DigestUpdate(ctx.get(), prefix.data(), prefix.size());
  }
  std::vector<char> buf(1 << 20);
  while (in) {
    if (cancelled && cancelled()) return Fail(Error::Cancelled("checksum cancelled"));
    in.read(buf.data(), std::streamsize(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), std::size_t(in.gcount()));
  }
  if (in.bad()) return Fail(Error::Internal("cannot read " + path.string()));
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_DigestFinal_ex(ctx.get(), out, &n);
  return Hex(out, n);
}

}  // namespace

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) { Reset(); }
Sha256Stream::~Sha256Stream() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }
void Sha256Stream::Reset() {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr);
}
void Sha256Stream::Update(const void* data, std::size_t len) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, len);
}
std::string Sha256Stream::Final() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), out, &n);
  return Hex(out, n);
}

Status HashFilePrefix(const std::filesystem::path& path, std::uint64_t bytes, Sha256Stream& stream,
                      const std::function<bool()>& cancelled) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(Error::Internal("cannot read " + path.string()));
  std::vector<char> buf(1 << 20);
  while (bytes > 0) {
    if (cancelled && cancelled()) return Fail(Error::Cancelled("checksum cancelled"));
    in.read(buf.data(), std::streamsize(std::min<std::uint64_t>(bytes, buf.size())));
    if (in.gcount() <= 0) return Fail(Error::Internal("cannot read " + path.string()));
    stream.Update(buf.data(), std::size_t(in.gcount()));
    bytes -= std::uint64_t(in.gcount());
  }
  return {};
}

Result<std::string> Sha256File(const std::filesystem::path& path,
                               const std::function<bool()>& cancelled) {
  return DigestFile(EVP_sha256(), path, "", cancelled);
}

Result<std::string> GitBlobSha1File(const std::filesystem::path& path) {
  return DigestFile(EVP_sha1(), path, "blob", {});
}

std::string Sha256Hex(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  EVP_Digest(data.data(), data.size(), out, &n, EVP_sha256(), nullptr);
  return Hex(out, n);
}

}  // namespace vectorize::remote
