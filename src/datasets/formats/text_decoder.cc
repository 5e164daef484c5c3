#include "datasets/formats/text_decoder.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace vectorize::datasets::formats {
namespace {

// Windows-1252 0x80–0x9F; the five undefined bytes map to the C1 controls, as Latin-1 does.
constexpr char16_t kCp1252High[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

size_t PutUtf8(char32_t cp, char* out) {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

// Length of the UTF-8 sequence at s[0..n): > 0 valid, 0 incomplete (needs more bytes), -1
// invalid (overlong, surrogate, above U+10FFFF, bad continuation).
int SequenceLength(const unsigned char* s, size_t n) {
  unsigned char c = s[0];
  int len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return -1;
  }
  for (int i = 1; i < len; ++i) {
    if (static_cast<size_t>(i) >= n) return 0;
    unsigned char b = s[i];
    if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return -1;
  }
  return len;
}

}  // namespace

TextDecoder::TextDecoder(std::filesystem::path path, std::string display)
    : path_(std::move(path)), display_(std::move(display)) {}

TextDecoder::~TextDecoder() {
  if (fd_ >= 0) ::close(fd_);
}

FormatStatus TextDecoder::Open() {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return InvalidFileError(fmt::format("{}: cannot read the file", Quote(display_)));
  char head[3];
  size_t got = 0;
  while (got < 3) {
    ssize_t n = ::read(fd_, head + got, 3 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  auto u = [&](size_t i) { return static_cast<unsigned char>(head[i]); };
  if (got >= 3 && u(0) == 0xEF && u(1) == 0xBB && u(2) == 0xBF) {
    mode_ = Mode::kUtf8Bom;
  } else if (got >= 2 && u(0) == 0xFF && u(1) == 0xFE) {
    mode_ = Mode::kUtf16Le;
    pending_.assign(head + 2, got - 2);
  } else if (got >= 2 && u(0) == 0xFE && u(1) == 0xFF) {
    mode_ = Mode::kUtf16Be;
    pending_.assign(head + 2, got - 2);
  } else {
    pending_.assign(head, got);
  }
  return {};
}

std::string_view TextDecoder::encoding() const {
  switch (mode_) {
    case Mode::kUndecided:
    case Mode::kUtf8: return "utf-8";
    case Mode::kUtf8Bom: return "utf-8-sig";
    case Mode::kUtf16Le: return "utf-16le";
    case Mode::kUtf16Be: return "utf-16be";
    case Mode::kCp1252: return "windows-1252";
  }
  return "utf-8";
}

std::expected<size_t, ConvertError> TextDecoder::ReadRaw(char* dst, size_t cap) {
  size_t got = 0;
  while (got < cap && !eof_) {
    ssize_t n = ::read(fd_, dst + got, cap - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return InvalidFileError(
          fmt::format("{}: read error: {}", Quote(display_), std::strerror(errno)));
    }
    if (n == 0) {
      eof_ = true;
      break;
    }
    got += static_cast<size_t>(n);
  }
  return got;
}

FormatStatus TextDecoder::CheckOutput(const char* out, size_t n) {
  const void* nul = std::memchr(out, 0, n);
  if (nul != nullptr) {
    size_t at = static_cast<size_t>(static_cast<const char*>(nul) - out);
    uint64_t line = lines_before_ + static_cast<uint64_t>(std::count(out, out + at, '\n')) + 1;
    return InvalidFileError(fmt::format("{}: NUL byte on line {}", Quote(display_), line));
  }
  lines_before_ += static_cast<uint64_t>(std::count(out, out + n, '\n'));
  return {};
}

std::expected<size_t, ConvertError> TextDecoder::Read(char* dst, size_t cap) {
  for (;;) {
    std::expected<size_t, ConvertError> n;
    switch (mode_) {
      case Mode::kUndecided:
      case Mode::kUtf8:
      case Mode::kUtf8Bom: n = ReadUtf8(dst, cap); break;
      case Mode::kCp1252: n = ReadCp1252(dst, cap); break;
      case Mode::kUtf16Le:
      case Mode::kUtf16Be: n = ReadUtf16(dst, cap); break;
    }
    if (!n) return n;
    // 0 with data left happens when the undecided mode switched to Windows-1252.
    if (*n == 0 && !(eof_ && pending_.empty())) continue;
    if (auto s = CheckOutput(dst, *n); !s) return std::unexpected(s.error());
    return n;
  }
}

std::expected<size_t, ConvertError> TextDecoder::ReadUtf8(char* dst, size_t cap) {
  size_t have = std::min(pending_.size(), cap);
  std::memcpy(dst, pending_.data(), have);
  pending_.erase(0, have);
  auto raw = ReadRaw(dst + have, cap - have);
  if (!raw) return raw;
  size_t n = have + *raw;
  const auto* s = reinterpret_cast<const unsigned char*>(dst);
  size_t i = 0;
  while (i < n) {
    // ASCII fast path, 8 bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, s + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    if (s[i] < 0x80) {
      ++i;
      continue;
    }
    int len = SequenceLength(s + i, n - i);
    if (len > 0) {
      if (mode_ == Mode::kUndecided) mode_ = Mode::kUtf8;
      i += static_cast<size_t>(len);
      continue;
    }
    if (len == 0 && !(eof_ && pending_.empty())) {
      // Incomplete at the end of the buffer: keep it for the next call.
      pending_.insert(0, dst + i, n - i);
      return i;
    }
    if (mode_ == Mode::kUndecided) {
      mode_ = Mode::kCp1252;
      pending_.insert(0, dst + i, n - i);
      return i;
    }
    uint64_t line = lines_before_ + static_cast<uint64_t>(std::count(dst, dst + i, '\n')) + 1;
    return InvalidFileError(
        fmt::format("{}: invalid UTF-8 on line {} (the file is read as UTF-8 because of its "
                    "earlier content)",
                    Quote(display_), line));
  }
  return n;
}

std::expected<size_t, ConvertError> TextDecoder::ReadCp1252(char* dst, size_t cap) {
  size_t want = cap / 3;
  scratch_.assign(pending_);
  pending_.clear();
  if (scratch_.size() < want) {
    size_t have = scratch_.size();
    scratch_.resize(want);
    auto raw = ReadRaw(scratch_.data() + have, want - have);
    if (!raw) return raw;
    scratch_.resize(have + *raw);
  } else if (scratch_.size() > want) {
    pending_.assign(scratch_, want, std::string::npos);
    scratch_.resize(want);
  }
  size_t out = 0;
  for (char ch : scratch_) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      dst[out++] = ch;
    } else {
      char32_t cp = c < 0xA0 ? kCp1252High[c - 0x80] : c;
      out += PutUtf8(cp, dst + out);
    }
  }
  return out;
}

std::expected<size_t, ConvertError> TextDecoder::ReadUtf16(char* dst, size_t cap) {
  size_t want = (cap / 4) * 2;
  scratch_.assign(pending_);
  pending_.clear();
  if (scratch_.size() < want) {
    size_t have = scratch_.size();
    scratch_.resize(want);
    auto raw = ReadRaw(scratch_.data() + have, want - have);
    if (!raw) return raw;
    scratch_.resize(have + *raw);
  } else if (scratch_.size() > want) {
    pending_.assign(scratch_, want, std::string::npos);
    scratch_.resize(want);
  }
  const bool le = mode_ == Mode::kUtf16Le;
  auto unit = [&](size_t i) -> char16_t {
    auto a = static_cast<unsigned char>(scratch_[i]);
    auto b = static_cast<unsigned char>(scratch_[i + 1]);
    return static_cast<char16_t>(le ? (a | (b << 8)) : ((a << 8) | b));
  };
  size_t out = 0;
  size_t i = 0;
  const size_t n = scratch_.size();
  while (i + 1 < n) {
    char16_t u = unit(i);
    char32_t cp = u;
    size_t used = 2;
    if (u >= 0xD800 && u <= 0xDBFF) {
      if (i + 3 >= n) {
        if (!eof_ || !pending_.empty()) break;  // the low half is in the next block
        return InvalidFileError(fmt::format("{}: truncated UTF-16 at the end", Quote(display_)));
      }
      char16_t low = unit(i + 2);
      if (low < 0xDC00 || low > 0xDFFF) {
        return InvalidFileError(fmt::format("{}: invalid UTF-16 (unpaired surrogate) at byte {}",
                                            Quote(display_), i + 2));
      }
      cp = 0x10000 + ((static_cast<char32_t>(u) - 0xD800) << 10) + (low - 0xDC00);
      used = 4;
    } else if (u >= 0xDC00 && u <= 0xDFFF) {
      return InvalidFileError(
          fmt::format("{}: invalid UTF-16 (unpaired surrogate)", Quote(display_)));
    }
    out += PutUtf8(cp, dst + out);
    i += used;
  }
  if (i < n) {
    if (eof_ && pending_.empty() && n - i == 1) {
      return InvalidFileError(fmt::format("{}: odd number of bytes in UTF-16", Quote(display_)));
    }
    pending_.insert(0, scratch_.data() + i, n - i);
  }
  return out;
}

}  // namespace vectorize::datasets::formats
