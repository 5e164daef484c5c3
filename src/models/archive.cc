#include "models/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <memory>
#include <vector>

namespace vectorize::models {
namespace fs = std::filesystem;
namespace {

Error InvalidFile(std::string m) {
  Error e = Error::InvalidArgument(std::move(m));
  e.public_code = "INVALID_FILE";
  return e;
}

Error TooLarge(std::string m) {
  Error e = Error::InvalidArgument(std::move(m));
  e.public_code = "PAYLOAD_TOO_LARGE";
  return e;
}

bool Ignored(const fs::path& p) {
  for (const auto& part : p) {
    if (part == "__MACOSX" || part == ".DS_Store") return true;
  }
  return false;
}

Result<ExtractResult> Extract(struct archive* a, const fs::path& archive_path, ArchiveFormat format,
                              const fs::path& dest, const ExtractLimits& limits,
                              const std::function<bool()>& cancelled) {
  std::error_code ec;
  const auto archive_size = fs::file_size(archive_path, ec);
  if (archive_read_open_filename(a, archive_path.c_str(), 1 << 16) != ARCHIVE_OK)
    return Fail(InvalidFile(format == ArchiveFormat::kZip ? "the file is not a valid zip archive"
                                                          : "the file is not a valid tar.gz"));
  ExtractResult res;
  std::uint64_t entries = 0;
  std::vector<char> buf(1 << 16);
  archive_entry* entry = nullptr;
  while (true) {
    int rc = archive_read_next_header(a, &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN)
      return Fail(InvalidFile(fmt::format("the archive is corrupt: {}",
                                          archive_error_string(a) ? archive_error_string(a) : "")));
    if (cancelled && cancelled()) return Fail(Error::Cancelled("extraction cancelled"));
    if (++entries > limits.max_entries)
      return Fail(
          TooLarge(fmt::format("the archive has more than {} entries", limits.max_entries)));
    const char* name = archive_entry_pathname(entry);
    if (!name) return Fail(InvalidFile("an archive entry has no name"));
    auto rel = SafeEntryPath(name);
    if (!rel) return Fail(rel.error());
    if (rel->empty() || Ignored(*rel)) continue;
    const auto type = archive_entry_filetype(entry);
    const fs::path target = dest / *rel;
    if (type == AE_IFDIR) {
      fs::create_directories(target, ec);
      if (ec) return Fail(Error::Internal("cannot create " + target.string()));
      continue;
    }
    if (type != AE_IFREG) continue;  // links, devices: never needed, never followed
    if (archive_entry_hardlink(entry) != nullptr) continue;
    fs::create_directories(target.parent_path(), ec);
    if (ec) return Fail(Error::Internal("cannot create " + target.parent_path().string()));
    int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
      if (errno == EEXIST) return Fail(InvalidFile(fmt::format("duplicate entry {}", name)));
      return Fail(Error::Internal("cannot create " + target.string()));
    }
    std::unique_ptr<int, void (*)(int*)> guard(&fd, [](int* f) { ::close(*f); });
    ++res.files;
    while (true) {
      la_ssize_t n = archive_read_data(a, buf.data(), buf.size());
      if (n == 0) break;
      if (n < 0)
        return Fail(
            InvalidFile(fmt::format("the archive is corrupt at {}: {}", name,
                                    archive_error_string(a) ? archive_error_string(a) : "")));
      res.bytes += std::uint64_t(n);
      if (res.bytes > limits.max_total_bytes)
        return Fail(TooLarge(
            fmt::format("the archive expands to more than {} bytes", limits.max_total_bytes)));
      if (res.bytes > (64ull << 20) && archive_size > 0 &&
          double(res.bytes) / double(archive_size) > limits.max_ratio)
        return Fail(TooLarge(
            fmt::format("the archive expands more than {:.0f} times its size (a zip bomb?)",
                        limits.max_ratio)));
      const char* p = buf.data();
      la_ssize_t left = n;
      while (left > 0) {
        ssize_t w = ::write(fd, p, std::size_t(left));
        if (w < 0) {
          if (errno == EINTR) continue;
          return Fail(Error::Internal("cannot write " + target.string()));
        }
        p += w;
        left -= w;
      }
    }
  }
  return res;
}

}  // namespace

Result<fs::path> SafeEntryPath(std::string_view name) {
  if (name.empty()) return fs::path();
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f || c == '\\')
      return Fail(InvalidFile(fmt::format("unsafe path in archive: \"{}\"", name.substr(0, 200))));
  }
  if (name.front() == '/')
    return Fail(InvalidFile(fmt::format("absolute path in archive: \"{}\"", name.substr(0, 200))));
  fs::path out;
  std::size_t start = 0;
  while (start <= name.size()) {
    auto slash = name.find('/', start);
    auto seg = name.substr(start, slash == std::string_view::npos ? name.npos : slash - start);
    if (seg == "..")
      return Fail(InvalidFile(
          fmt::format("path escapes the archive (zip slip): \"{}\"", name.substr(0, 200))));
    if (!seg.empty() && seg != ".") out /= std::string(seg);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

Result<ExtractResult> ExtractArchive(const fs::path& archive, ArchiveFormat format,
                                     const fs::path& dest, const ExtractLimits& limits,
                                     const std::function<bool()>& cancelled) {
  std::unique_ptr<struct archive, int (*)(struct archive*)> a(archive_read_new(),
                                                              archive_read_free);
  if (format == ArchiveFormat::kZip) {
    archive_read_support_format_zip_seekable(a.get());
  } else {
    archive_read_support_filter_gzip(a.get());
    archive_read_support_format_tar(a.get());
  }
  std::error_code ec;
  fs::create_directories(dest, ec);
  if (ec) return Fail(Error::Internal("cannot create " + dest.string()));
  auto r = Extract(a.get(), archive, format, dest, limits, cancelled);
  a.reset();
  if (!r) fs::remove_all(dest, ec);
  return r;
}

}  // namespace vectorize::models
