#include "http/multipart.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace vectorize::http {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Error Bad(std::string message) { return Error::InvalidArgument("multipart body: " + message); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 5987 ext-value: charset'lang'percent-encoded. Only UTF-8 and ISO-8859-1 are defined.
std::optional<std::string> DecodeExtValue(std::string_view v) {
  const auto q1 = v.find('\'');
  if (q1 == std::string_view::npos) return std::nullopt;
  const auto q2 = v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return std::nullopt;
  const std::string charset = Lower(v.substr(0, q1));
  std::string raw;
  for (std::size_t i = q2 + 1; i < v.size(); ++i) {
    if (v[i] == '%' && i + 2 < v.size()) {
      const int hi = HexValue(v[i + 1]), lo = HexValue(v[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      raw.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (v[i] == '%') {
      return std::nullopt;
    } else {
      raw.push_back(v[i]);
    }
  }
  if (charset == "utf-8") return raw;
  if (charset == "iso-8859-1") {
    std::string utf8;
    for (unsigned char c : raw) {
      if (c < 0x80) {
        utf8.push_back(static_cast<char>(c));
      } else {
        utf8.push_back(static_cast<char>(0xC0 | (c >> 6)));
        utf8.push_back(static_cast<char>(0x80 | (c & 0x3F)));
      }
    }
    return utf8;
  }
  return std::nullopt;
}

// `; key=value; key="quoted \" value"` after the disposition type. Keys lower-cased.
std::vector<std::pair<std::string, std::string>> ParseParams(std::string_view s) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ';' || s[i] == ' ' || s[i] == '\t')) ++i;
    const std::size_t key_start = i;
    while (i < s.size() && s[i] != '=' && s[i] != ';') ++i;
    std::string key = Lower(Trim(s.substr(key_start, i - key_start)));
    std::string value;
    if (i < s.size() && s[i] == '=') {
      ++i;
      while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
      if (i < s.size() && s[i] == '"') {
        ++i;
        while (i < s.size() && s[i] != '"') {
          if (s[i] == '\\' && i + 1 < s.size()) ++i;
          value.push_back(s[i++]);
        }
        if (i < s.size()) ++i;  // closing quote
      } else {
        const std::size_t v_start = i;
        while (i < s.size() && s[i] != ';') ++i;
        value = std::string(Trim(s.substr(v_start, i - v_start)));
      }
    }
    if (!key.empty()) out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

}  // namespace

MultipartForm& MultipartForm::operator=(MultipartForm&& o) noexcept {
  if (this != &o) {
    RemoveFiles();
    parts = std::move(o.parts);
  }
  return *this;
}

MultipartForm::~MultipartForm() { RemoveFiles(); }

void MultipartForm::RemoveFiles() {
  for (auto& part : parts) {
    if (!part.file_path.empty()) ::unlink(part.file_path.c_str());
    part.file_path.clear();
  }
}

std::vector<const MultipartPart*> MultipartForm::All(std::string_view name) const {
  std::vector<const MultipartPart*> out;
  for (const auto& part : parts) {
    if (part.name == name) out.push_back(&part);
  }
  return out;
}

Result<std::string> MultipartBoundary(std::string_view content_type) {
  const auto semi = content_type.find(';');
  const std::string type = Lower(Trim(content_type.substr(0, semi)));
  if (type != "multipart/form-data") {
    return Fail(Error::InvalidArgument("expected Content-Type multipart/form-data, got '" +
                                       std::string(content_type.substr(0, 100)) + "'"));
  }
  if (semi != std::string_view::npos) {
    for (auto& [key, value] : ParseParams(content_type.substr(semi + 1))) {
      if (key != "boundary") continue;
      // RFC 2046: 1..70 characters, no trailing space, no CR/LF.
      if (value.empty() || value.size() > 70 || value.back() == ' ' ||
          value.find_first_of("\r\n") != std::string::npos) {
        return Fail(Error::InvalidArgument("multipart boundary must be 1 to 70 characters"));
      }
      return value;
    }
  }
  return Fail(Error::InvalidArgument("multipart/form-data Content-Type has no boundary"));
}

struct MultipartParser::Impl {
  enum class State { kPreamble, kAfterDelimiter, kHeaders, kBody, kDone, kFailed };

  std::string delimiter;  // "\r\n--" + boundary
  std::string temp_dir;
  MultipartLimits limits;
  State state = State::kPreamble;
  std::string buf = "\r\n";  // so a delimiter on the very first line matches too
  std::size_t pos = 0;       // consumed prefix of buf
  MultipartForm form;
  MultipartPart* part = nullptr;
  int fd = -1;
  std::optional<Error> error;

  ~Impl() { CloseFile(); }

  void CloseFile() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }

  Status Failed(Error e) {
    state = State::kFailed;
    CloseFile();
    form.RemoveFiles();
    error = e;
    return Fail(std::move(e));
  }

  std::size_t Find(std::string_view needle) const {
    const void* hit = ::memmem(buf.data() + pos, buf.size() - pos, needle.data(), needle.size());
    return hit == nullptr ? std::string::npos
                          : static_cast<std::size_t>(static_cast<const char*>(hit) - buf.data());
  }

  Status Emit(const char* p, std::size_t n) {
    if (n == 0) return {};
    part->size += n;
    if (fd < 0) {
      if (part->value.size() + n > limits.max_field_bytes) {
        return Failed(Bad("field '" + part->name.substr(0, 100) + "' is larger than " +
                          std::to_string(limits.max_field_bytes) + " bytes"));
      }
      part->value.append(p, n);
      return {};
    }
    while (n > 0) {
      const ssize_t w = ::write(fd, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        return Failed(
            Error::Internal(std::string("cannot write upload part: ") + std::strerror(errno)));
      }
      p += w;
      n -= static_cast<std::size_t>(w);
    }
    return {};
  }

  Status StartPart(std::string_view header_block) {
    if (form.parts.size() >= limits.max_parts) {
      return Failed(Bad("more than " + std::to_string(limits.max_parts) + " parts"));
    }
    MultipartPart p;
    bool has_disposition = false;
    std::optional<std::string> filename, filename_ext;
    std::size_t start = 0;
    while (start < header_block.size()) {
      auto end = header_block.find("\r\n", start);
      if (end == std::string_view::npos) end = header_block.size();
      const std::string_view line = header_block.substr(start, end - start);
      start = end + 2;
      if (line.empty()) continue;
      const auto colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) {
        return Failed(Bad("malformed part header line"));
      }
      const std::string name = Lower(Trim(line.substr(0, colon)));
      const std::string_view value = Trim(line.substr(colon + 1));
      if (name == "content-type") {
        p.content_type = std::string(value);
      } else if (name == "content-disposition") {
        const auto semi = value.find(';');
        if (Lower(Trim(value.substr(0, semi))) != "form-data") {
          return Failed(Bad("part Content-Disposition must be form-data"));
        }
        has_disposition = true;
        if (semi == std::string_view::npos) continue;
        for (auto& [key, val] : ParseParams(value.substr(semi + 1))) {
          if (key == "name") p.name = val;
          if (key == "filename") filename = val;
          if (key == "filename*") {
            filename_ext = DecodeExtValue(val);
            if (!filename_ext) return Failed(Bad("malformed filename* parameter"));
          }
        }
      }
    }
    if (!has_disposition) return Failed(Bad("a part has no Content-Disposition header"));
    if (p.name.empty()) return Failed(Bad("a part has no name"));
    p.filename = filename_ext ? filename_ext : filename;
    form.parts.push_back(std::move(p));
    part = &form.parts.back();
    if (part->filename) {
      std::string templ = temp_dir + "/part-XXXXXX";
      fd = ::mkostemp(templ.data(), O_CLOEXEC);
      if (fd < 0) {
        return Failed(Error::Internal(std::string("cannot create a temp file in ") + temp_dir +
                                      ": " + std::strerror(errno)));
      }
      part->file_path = std::move(templ);
    }
    return {};
  }

  // Runs the state machine over the unconsumed bytes.
  Status Process() {
    while (true) {
      const std::size_t avail = buf.size() - pos;
      switch (state) {
        case State::kPreamble: {
          const std::size_t hit = Find(delimiter);
          if (hit == std::string::npos) {
            if (avail >= delimiter.size()) pos = buf.size() - (delimiter.size() - 1);
            return {};
          }
          pos = hit + delimiter.size();
          state = State::kAfterDelimiter;
          break;
        }
        case State::kAfterDelimiter: {
          if (avail < 2) return {};
          if (buf.compare(pos, 2, "--") == 0) {
            pos += 2;
            state = State::kDone;
            break;
          }
          std::size_t i = pos;
          while (i < buf.size() && (buf[i] == ' ' || buf[i] == '\t')) ++i;
          if (buf.size() - i < 2) {
            if (i - pos > 256) return Failed(Bad("malformed boundary line"));
            return {};
          }
          if (buf.compare(i, 2, "\r\n") != 0) return Failed(Bad("malformed boundary line"));
          pos = i + 2;
          state = State::kHeaders;
          break;
        }
        case State::kHeaders: {
          if (avail >= 2 && buf.compare(pos, 2, "\r\n") == 0) {  // a part without headers
            pos += 2;
            if (auto s = StartPart({}); !s) return s;
            state = State::kBody;
            break;
          }
          const std::size_t hit = Find("\r\n\r\n");
          if (hit == std::string::npos) {
            if (avail > limits.max_header_bytes) {
              return Failed(Bad("part headers larger than " +
                                std::to_string(limits.max_header_bytes) + " bytes"));
            }
            return {};
          }
          if (hit - pos > limits.max_header_bytes) {
            return Failed(Bad("part headers larger than " +
                              std::to_string(limits.max_header_bytes) + " bytes"));
          }
          const std::string block = buf.substr(pos, hit - pos);
          pos = hit + 4;
          if (auto s = StartPart(block); !s) return s;
          state = State::kBody;
          break;
        }
        case State::kBody: {
          const std::size_t hit = Find(delimiter);
          if (hit == std::string::npos) {
            // Keep what could be the start of a delimiter split across feeds.
            if (avail >= delimiter.size()) {
              const std::size_t n = avail - (delimiter.size() - 1);
              if (auto s = Emit(buf.data() + pos, n); !s) return s;
              pos += n;
            }
            return {};
          }
          if (auto s = Emit(buf.data() + pos, hit - pos); !s) return s;
          pos = hit + delimiter.size();
          CloseFile();
          part = nullptr;
          state = State::kAfterDelimiter;
          break;
        }
        case State::kDone:
          pos = buf.size();  // the epilogue is ignored
          return {};
        case State::kFailed: return Fail(*error);
      }
    }
  }
};

MultipartParser::MultipartParser(std::string boundary, std::string temp_dir, MultipartLimits limits)
    : impl_(std::make_unique<Impl>()) {
  impl_->delimiter = "\r\n--" + boundary;
  impl_->temp_dir = std::move(temp_dir);
  impl_->limits = limits;
}

MultipartParser::~MultipartParser() = default;

Status MultipartParser::Feed(std::string_view bytes) {
  Impl& m = *impl_;
  if (m.state == Impl::State::kFailed) return Fail(*m.error);
  if (m.state == Impl::State::kDone) return {};
  if (m.pos > 0) {
    m.buf.erase(0, m.pos);
    m.pos = 0;
  }
  m.buf.append(bytes);
  return m.Process();
}

Result<MultipartForm> MultipartParser::Finish() {
  Impl& m = *impl_;
  if (m.state == Impl::State::kFailed) return Fail(*m.error);
  if (m.state != Impl::State::kDone) {
    const bool started = m.state != Impl::State::kPreamble;
    m.Failed(Bad(started ? "the body ends before the closing boundary"
                         : "no boundary line found (is the boundary in Content-Type right?)"));
    return Fail(*m.error);
  }
  m.CloseFile();
  return std::move(m.form);
}

Result<MultipartForm> ParseMultipartFile(const std::string& body_path,
                                         std::string_view content_type, const std::string& temp_dir,
                                         MultipartLimits limits) {
  auto boundary = MultipartBoundary(content_type);
  if (!boundary) return Fail(boundary.error());
  const int fd = ::open(body_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Fail(
        Error::Internal("cannot open request body " + body_path + ": " + std::strerror(errno)));
  }
  MultipartParser parser(std::move(*boundary), temp_dir, limits);
  std::string chunk(256 << 10, '\0');
  while (true) {
    const ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return Fail(Error::Internal(std::string("cannot read request body: ") + std::strerror(err)));
    }
    if (n == 0) break;
    if (auto s = parser.Feed(std::string_view(chunk.data(), static_cast<std::size_t>(n))); !s) {
      ::close(fd);
      return Fail(s.error());
    }
  }
  ::close(fd);
  return parser.Finish();
}

}  // namespace vectorize::http
