// JSON (an array of objects, or an object whose "data" is one) and JSON Lines, through
// Boost.JSON's SAX parser: records are built one at a time, never the document (SPEC §3.1).

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <boost/json/basic_parser_impl.hpp>
#include <cerrno>
#include <cstring>
#include <vector>

#include "datasets/formats/readers.h"

namespace vectorize::datasets::formats {
namespace {

namespace json = boost::json;
using boost::system::error_code;

// The handler turns events into records of top-level fields. For a JSON array the records are
// the objects at depth 1 (or 2 under {"data": [...]}); for JSON Lines each document is one.
class RecordHandler {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  RecordHandler(RowWriter& writer, std::string_view display, bool lines, const Limits& limits)
      : writer_(writer), display_(display), lines_(lines), limits_(limits) {}

  // Set when a handler callback stopped the parser.
  std::optional<ConvertError> failure;
  uint64_t records = 0;
  uint64_t line = 0;  // JSONL: the current line
  bool saw_container = false;

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }

  bool on_array_begin(error_code& ec) {
    if (depth_ == 0) {
      if (lines_) return Fail(ec, ExpectedObject("a JSON array"));
      container_depth_ = 1;
      saw_container = true;
    } else if (depth_ == 1 && top_is_object_ && current_key_ == "data" && container_depth_ < 0) {
      container_depth_ = 2;
      saw_container = true;
    } else if (depth_ == container_depth_) {
      return Fail(ec, ExpectedObject("an array"));
    } else if (in_record_ && depth_ == field_depth_) {
      AddField(Field::Kind::kNested);
    }
    ++depth_;
    return true;
  }
  bool on_array_end(std::size_t, error_code&) {
    --depth_;
    return true;
  }

  bool on_object_begin(error_code&) {
    if (depth_ == 0 && !lines_) {
      top_is_object_ = true;
    } else if (depth_ == (lines_ ? 0 : container_depth_)) {
      in_record_ = true;
      field_depth_ = depth_ + 1;
      arena_.clear();
      spans_.clear();
      ++records;
    } else if (in_record_ && depth_ == field_depth_) {
      AddField(Field::Kind::kNested);
    }
    ++depth_;
    return true;
  }
  bool on_object_end(std::size_t, error_code& ec) {
    --depth_;
    if (in_record_ && depth_ == field_depth_ - 1) {
      in_record_ = false;
      fields_.clear();
      for (const Span& s : spans_) {
        fields_.push_back(Field{std::string_view(arena_).substr(s.key_off, s.key_len),
                                std::string_view(arena_).substr(s.val_off, s.val_len), s.kind});
      }
      Location where = lines_ ? Location{"line", line} : Location{"record", records};
      if (auto st = writer_.WriteRecord(fields_, where); !st) return Fail(ec, st.error());
    }
    return true;
  }

  bool on_key_part(json::string_view s, std::size_t, error_code&) {
    if (depth_ == 1 || InField()) key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, error_code&) {
    if (depth_ == 1 || InField()) {
      key_.append(s.data(), s.size());
      current_key_ = key_;
    }
    key_.clear();
    return true;
  }

  bool on_string_part(json::string_view s, std::size_t, error_code& ec) {
    if (!InField()) return true;
    value_.append(s.data(), s.size());
    if (value_.size() > limits_.max_record_bytes) return Fail(ec, TooLong());
    return true;
  }
  bool on_string(json::string_view s, std::size_t, error_code& ec) {
    if (NotAnObject()) return Fail(ec, ExpectedObject("a string"));
    if (!InField()) return true;
    value_.append(s.data(), s.size());
    if (value_.size() > limits_.max_record_bytes) return Fail(ec, TooLong());
    AddField(Field::Kind::kText);
    return true;
  }
  bool on_number_part(json::string_view s, error_code&) {
    if (InField()) value_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(int64_t, json::string_view s, error_code& ec) { return Number(s, ec); }
  bool on_uint64(uint64_t, json::string_view s, error_code& ec) { return Number(s, ec); }
  bool on_double(double, json::string_view s, error_code& ec) { return Number(s, ec); }
  bool on_bool(bool b, error_code& ec) {
    if (NotAnObject()) return Fail(ec, ExpectedObject("a boolean"));
    if (InField()) {
      value_ = b ? "true" : "false";
      AddField(Field::Kind::kText);
    }
    return true;
  }
  bool on_null(error_code& ec) {
    if (NotAnObject()) return Fail(ec, ExpectedObject("null"));
    if (InField()) AddField(Field::Kind::kNull);
    return true;
  }
  bool on_comment_part(json::string_view, error_code&) { return true; }
  bool on_comment(json::string_view, error_code&) { return true; }

  void ResetDocument() {
    depth_ = 0;
    in_record_ = false;
    key_.clear();
    value_.clear();
  }

 private:
  struct Span {
    size_t key_off, key_len, val_off, val_len;
    Field::Kind kind;
  };

  bool InField() const { return in_record_ && depth_ == field_depth_; }
  bool NotAnObject() const {
    return depth_ == 0 || (!lines_ && container_depth_ >= 0 && depth_ == container_depth_);
  }

  bool Number(json::string_view s, error_code& ec) {
    if (NotAnObject()) return Fail(ec, ExpectedObject("a number"));
    if (InField()) {
      value_.append(s.data(), s.size());
      AddField(Field::Kind::kText);
    }
    return true;
  }

  void AddField(Field::Kind kind) {
    Span s{arena_.size(), current_key_.size(), 0, 0, kind};
    arena_.append(current_key_);
    s.val_off = arena_.size();
    if (kind == Field::Kind::kText) arena_.append(value_);
    s.val_len = arena_.size() - s.val_off;
    spans_.push_back(s);
    value_.clear();
  }

  ConvertError ExpectedObject(std::string_view found) const {
    std::string where =
        lines_ ? fmt::format("line {}", line) : fmt::format("item {} of the array", records + 1);
    return InvalidContentError(
               fmt::format("{}: {} is {}; expected a JSON object", Quote(display_), where, found))
        .error();
  }
  ConvertError TooLong() const {
    return TooLargeError(fmt::format("{}: a value in {} {} is longer than {} bytes",
                                     Quote(display_), lines_ ? "line" : "record",
                                     lines_ ? line : records, limits_.max_record_bytes))
        .error();
  }
  bool Fail(error_code& ec, ConvertError e) {
    failure = std::move(e);
    ec = json::error::extra_data;  // any error: the handler's failure is what is reported
    return false;
  }

  RowWriter& writer_;
  std::string_view display_;
  bool lines_;
  const Limits& limits_;
  int depth_ = 0;
  int container_depth_ = -1;
  int field_depth_ = -1;
  bool top_is_object_ = false;
  bool in_record_ = false;
  std::string key_;
  std::string current_key_;
  std::string value_;
  std::string arena_;
  std::vector<Span> spans_;
  std::vector<Field> fields_;
};

json::parse_options Options() {
  json::parse_options o;
  o.max_depth = 64;
  return o;
}

int OpenInput(const std::filesystem::path& input) {
  return ::open(input.c_str(), O_RDONLY | O_CLOEXEC);
}

ssize_t ReadSome(int fd, char* buf, size_t cap) {
  for (;;) {
    ssize_t n = ::read(fd, buf, cap);
    if (n < 0 && errno == EINTR) continue;
    return n;
  }
}

}  // namespace

FormatStatus ConvertJson(const std::filesystem::path& input, std::string_view display,
                         RowWriter& writer, const Limits& limits) {
  int fd = OpenInput(input);
  if (fd < 0) return InvalidFileError(fmt::format("{}: cannot read the file", Quote(display)));
  json::basic_parser<RecordHandler> parser(Options(), writer, display, false, limits);
  std::vector<char> buf(1 << 20);
  uint64_t fed = 0;
  bool first = true;
  error_code ec;
  for (;;) {
    ssize_t n = ReadSome(fd, buf.data(), buf.size());
    if (n < 0) {
      ::close(fd);
      return InvalidFileError(fmt::format("{}: read error", Quote(display)));
    }
    size_t off = 0;
    if (first && n >= 3 && std::memcmp(buf.data(), "\xEF\xBB\xBF", 3) == 0) off = 3;
    first = false;
    size_t used = 0;
    if (!parser.done()) {
      used = parser.write_some(n > 0, buf.data() + off, static_cast<size_t>(n) - off, ec);
    }
    if (ec) {
      ::close(fd);
      if (parser.handler().failure) return std::unexpected(*parser.handler().failure);
      uint64_t at = fed + off + used;
      if (ec == json::error::incomplete && fed + off + used >= 1) {
        return InvalidFileError(fmt::format("{}: the JSON ends too early (line {})", Quote(display),
                                            LineOfOffset(input, at)));
      }
      return InvalidFileError(fmt::format("{}: invalid JSON on line {}: {}", Quote(display),
                                          LineOfOffset(input, at), ec.message()));
    }
    if (used < static_cast<size_t>(n) - off) {
      // The document ended inside this chunk: only whitespace may follow.
      std::string_view rest(buf.data() + off + used, static_cast<size_t>(n) - off - used);
      size_t junk = rest.find_first_not_of(" \t\r\n");
      if (junk != std::string_view::npos) {
        ::close(fd);
        return InvalidFileError(fmt::format("{}: unexpected data after the JSON on line {}",
                                            Quote(display),
                                            LineOfOffset(input, fed + off + used + junk)));
      }
    }
    fed += static_cast<uint64_t>(n);
    if (n == 0) break;
  }
  ::close(fd);
  if (!parser.handler().saw_container) {
    return InvalidContentError(fmt::format(
        "{}: expected an array of objects or an object with a \"data\" array", Quote(display)));
  }
  return {};
}

FormatStatus ConvertJsonl(const std::filesystem::path& input, std::string_view display,
                          RowWriter& writer, const Limits& limits) {
  int fd = OpenInput(input);
  if (fd < 0) return InvalidFileError(fmt::format("{}: cannot read the file", Quote(display)));
  json::basic_parser<RecordHandler> parser(Options(), writer, display, true, limits);
  RecordHandler& h = parser.handler();
  std::vector<char> buf(4 << 20);
  size_t len = 0;
  bool eof = false;
  uint64_t line = 0;
  bool first = true;
  auto fail = [&](std::unexpected<ConvertError> e) {
    ::close(fd);
    return e;
  };
  while (!eof || len > 0) {
    if (!eof) {
      if (buf.size() - len < (1 << 20)) {
        if (len > limits.max_record_bytes) {
          return fail(
              TooLargeError(fmt::format("{}: line {} is longer than {} bytes", Quote(display),
                                        line + 1, limits.max_record_bytes)));
        }
        buf.resize(buf.size() * 2);
      }
      ssize_t n = ReadSome(fd, buf.data() + len, buf.size() - len);
      if (n < 0) return fail(InvalidFileError(fmt::format("{}: read error", Quote(display))));
      if (n == 0) eof = true;
      len += static_cast<size_t>(n);
    }
    size_t pos = 0;
    if (first && len >= 3 && std::memcmp(buf.data(), "\xEF\xBB\xBF", 3) == 0) pos = 3;
    if (first && (len >= 3 || eof)) first = false;
    for (;;) {
      const char* start = buf.data() + pos;
      const void* nl = std::memchr(start, '\n', len - pos);
      if (nl == nullptr && !eof) break;
      size_t end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - buf.data()) : len;
      ++line;
      h.line = line;
      std::string_view text(start, end - pos);
      while (!text.empty() && (text.back() == '\r' || text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
      }
      size_t lead = text.find_first_not_of(" \t");
      if (lead != std::string_view::npos) {
        if (std::memchr(text.data(), 0, text.size()) != nullptr) {
          return fail(
              InvalidFileError(fmt::format("{}: NUL byte on line {}", Quote(display), line)));
        }
        parser.reset();
        h.ResetDocument();
        error_code ec;
        size_t used = parser.write_some(false, text.data(), text.size(), ec);
        if (!ec && used < text.size()) ec = json::error::extra_data;
        if (ec) {
          if (h.failure) return fail(std::unexpected(*h.failure));
          return fail(InvalidFileError(fmt::format("{}: line {} is not valid JSON: {}",
                                                   Quote(display), line, ec.message())));
        }
      }
      pos = nl ? end + 1 : len;
      if (pos >= len) break;
    }
    std::memmove(buf.data(), buf.data() + pos, len - pos);
    len -= pos;
    if (eof && len == 0) break;
  }
  ::close(fd);
  return {};
}

}  // namespace vectorize::datasets::formats
