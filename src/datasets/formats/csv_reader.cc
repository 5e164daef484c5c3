// CSV: RFC 4180 records over a TextDecoder, parsed in place in a growing buffer (SPEC §3.1).
// A record is first scanned without modifying the buffer (so a record cut by the buffer's end
// is simply scanned again after a refill), then its quoted fields are unescaped into scratch.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "datasets/formats/readers.h"
#include "datasets/formats/text_decoder.h"

namespace vectorize::datasets::formats {
namespace {

constexpr size_t kInitialBuffer = 1 << 20;
constexpr size_t kReadChunk = 256 << 10;
constexpr char kDelimiters[4] = {',', ';', '\t', '|'};

struct RawField {
  size_t begin;  // content start (after the opening quote, if quoted)
  size_t end;    // content end (before the closing quote)
  bool quoted;
  bool escaped;  // contains "" to unescape
};

enum class ScanStatus { kRecord, kNeedMore, kError };

class CsvParser {
 public:
  CsvParser(TextDecoder& decoder, std::string_view display, const Limits& limits)
      : decoder_(decoder), display_(display), limits_(limits) {
    buf_.resize(kInitialBuffer);
  }

  // Detects the delimiter from the first record: the candidate seen most often outside quotes.
  FormatStatus DetectDelimiter(char* delimiter) {
    for (;;) {
      int counts[4] = {0, 0, 0, 0};
      bool in_quotes = false;
      bool complete = false;
      for (size_t i = pos_; i < len_; ++i) {
        char c = buf_[i];
        if (c == '"') {
          in_quotes = !in_quotes;
        } else if (!in_quotes && (c == '\n' || c == '\r')) {
          complete = true;
          break;
        } else if (!in_quotes) {
          for (int d = 0; d < 4; ++d) counts[d] += c == kDelimiters[d];
        }
      }
      if (complete || eof_) {
        int best = 0;
        for (int d = 1; d < 4; ++d) {
          if (counts[d] > counts[best]) best = d;
        }
        delim_ = kDelimiters[best];
        stop_.fill(false);
        stop_[static_cast<unsigned char>(delim_)] = true;
        stop_['\n'] = true;
        stop_['\r'] = true;
        *delimiter = delim_;
        return {};
      }
      if (auto s = Fill(); !s) return s;
    }
  }

  // Skips the whitespace before the header; false if the file holds nothing else.
  std::expected<bool, ConvertError> SkipLeadingBlank() {
    for (;;) {
      while (pos_ < len_ && (buf_[pos_] == '\n' || buf_[pos_] == '\r' || buf_[pos_] == ' ' ||
                             buf_[pos_] == '\t')) {
        if (buf_[pos_] == '\n') ++line_;
        ++pos_;
      }
      if (pos_ < len_) return true;
      if (eof_) return false;
      if (auto s = Fill(); !s) return std::unexpected(s.error());
    }
  }

  // Next record into `cells` (views valid until the next call). false at the end.
  std::expected<bool, ConvertError> Next(std::vector<std::string_view>& cells, uint64_t* line) {
    for (;;) {
      if (pos_ >= len_ && eof_) return false;
      size_t newlines = 0;
      ScanStatus st = Scan(&newlines);
      if (st == ScanStatus::kError) return std::unexpected(error_);
      if (st == ScanStatus::kNeedMore) {
        if (auto s = Fill(); !s) return std::unexpected(s.error());
        continue;
      }
      *line = line_;
      line_ += newlines;
      pos_ = scan_end_;
      cells.clear();
      scratch_.clear();
      size_t need = 0;
      for (const RawField& f : fields_) {
        if (f.escaped) need += f.end - f.begin;
      }
      scratch_.reserve(need);
      for (const RawField& f : fields_) {
        if (!f.escaped) {
          cells.emplace_back(buf_.data() + f.begin, f.end - f.begin);
          continue;
        }
        size_t start = scratch_.size();
        for (size_t i = f.begin; i < f.end; ++i) {
          scratch_.push_back(buf_[i]);
          if (buf_[i] == '"') ++i;  // "" → "
        }
        cells.emplace_back(scratch_.data() + start, scratch_.size() - start);
      }
      return true;
    }
  }

 private:
  // Scans one record from pos_ without modifying the buffer.
  ScanStatus Scan(size_t* newlines) {
    fields_.clear();
    const char* b = buf_.data();
    size_t p = pos_;
    size_t nl = 0;
    for (;;) {
      RawField f{p, p, false, false};
      if (p < len_ && b[p] == '"') {
        f.quoted = true;
        size_t q = p + 1;
        f.begin = q;
        for (;;) {
          const void* hit = std::memchr(b + q, '"', len_ - q);
          if (hit == nullptr) {
            if (!eof_) return ScanStatus::kNeedMore;
            error_ = InvalidContentError(fmt::format("{}: line {}: a quoted field is never closed",
                                                     Quote(display_), line_))
                         .error();
            return ScanStatus::kError;
          }
          size_t at = static_cast<size_t>(static_cast<const char*>(hit) - b);
          nl += static_cast<size_t>(std::count(b + q, b + at, '\n'));
          if (at + 1 >= len_ && !eof_) return ScanStatus::kNeedMore;
          if (at + 1 < len_ && b[at + 1] == '"') {
            f.escaped = true;
            q = at + 2;
            continue;
          }
          f.end = at;
          p = at + 1;
          break;
        }
        if (p < len_ && b[p] != delim_ && b[p] != '\n' && b[p] != '\r') {
          error_ = InvalidContentError(
                       fmt::format("{}: line {}: unexpected {} after a closing quote (a quote "
                                   "inside a quoted field must be doubled)",
                                   Quote(display_), line_ + nl, Quote(std::string_view(b + p, 1))))
                       .error();
          return ScanStatus::kError;
        }
      } else {
        while (p < len_ && !stop_[static_cast<unsigned char>(b[p])]) ++p;
        f.end = p;
      }
      fields_.push_back(f);
      if (p >= len_) {
        if (!eof_) return ScanStatus::kNeedMore;
        scan_end_ = p;
        *newlines = nl;
        return ScanStatus::kRecord;
      }
      char c = b[p];
      if (c == delim_) {
        ++p;
        continue;
      }
      if (c == '\r') {
        if (p + 1 >= len_ && !eof_) return ScanStatus::kNeedMore;
        p += (p + 1 < len_ && b[p + 1] == '\n') ? 2 : 1;
      } else {
        ++p;
      }
      scan_end_ = p;
      *newlines = nl + 1;
      return ScanStatus::kRecord;
    }
  }

  FormatStatus Fill() {
    if (pos_ > 0) {
      std::memmove(buf_.data(), buf_.data() + pos_, len_ - pos_);
      len_ -= pos_;
      pos_ = 0;
    }
    if (buf_.size() - len_ < kReadChunk) {
      if (len_ > limits_.max_record_bytes) {
        return TooLargeError(fmt::format("{}: the record on line {} is longer than {} bytes",
                                         Quote(display_), line_, limits_.max_record_bytes));
      }
      buf_.resize(std::max(buf_.size() * 2, len_ + kReadChunk));
    }
    auto n = decoder_.Read(buf_.data() + len_, buf_.size() - len_);
    if (!n) return std::unexpected(n.error());
    if (*n == 0) eof_ = true;
    len_ += *n;
    return {};
  }

  TextDecoder& decoder_;
  std::string_view display_;
  const Limits& limits_;
  std::vector<char> buf_;
  size_t pos_ = 0;
  size_t len_ = 0;
  size_t scan_end_ = 0;
  bool eof_ = false;
  char delim_ = ',';
  std::array<bool, 256> stop_{};  // bytes that end an unquoted field
  uint64_t line_ = 1;
  std::vector<RawField> fields_;
  std::string scratch_;
  ConvertError error_;
};

}  // namespace

FormatStatus ConvertCsv(const std::filesystem::path& input, std::string_view display,
                        RowWriter& writer, const Limits& limits, ConvertResult& result) {
  TextDecoder decoder(input, std::string(display));
  if (auto s = decoder.Open(); !s) return s;
  CsvParser parser(decoder, display, limits);
  auto any = parser.SkipLeadingBlank();
  if (!any) return std::unexpected(any.error());
  if (!*any) return EmptyFileError(fmt::format("{} is empty", Quote(display)));
  if (auto s = parser.DetectDelimiter(&result.delimiter); !s) return s;

  std::vector<std::string_view> cells;
  uint64_t line = 0;
  auto got = parser.Next(cells, &line);
  if (!got) return std::unexpected(got.error());
  std::vector<std::string> header(cells.begin(), cells.end());
  if (auto s = writer.SetHeader(header); !s) return s;

  for (;;) {
    got = parser.Next(cells, &line);
    if (!got) return std::unexpected(got.error());
    if (!*got) break;
    if (cells.size() == 1 && cells[0].empty()) continue;  // blank line
    if (cells.size() != header.size()) {
      return InvalidContentError(fmt::format("{}: line {} has {} fields; the header has {}",
                                             Quote(display), line, cells.size(), header.size()));
    }
    if (auto s = writer.WriteRow(cells, Location{"line", line}); !s) return s;
  }
  result.encoding = std::string(decoder.encoding());
  return {};
}

}  // namespace vectorize::datasets::formats
