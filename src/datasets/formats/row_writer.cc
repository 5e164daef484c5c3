#include "datasets/formats/row_writer.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "common/utf8.h"
#include "datasets/formats/cell_safety.h"

namespace vectorize::datasets::formats {
namespace {

constexpr size_t kFlushBytes = 1 << 20;
constexpr const char* kRoleNames[3] = {"question", "positive", "negative"};
constexpr std::string_view kAliases[3][5] = {
    {"question", "anchor", "q", "query", "prompt"},
    {"positive", "answer", "chosen", "", ""},
    {"negative", "random", "rejected", "no_context", ""},
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '\f' && c != '\v') return false;
  }
  return true;
}

// JSON escapes: 0 = copy, else the character to put after '\\' ('u' = \u00XX).
constexpr std::array<char, 256> MakeEscapes() {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 'u';
  t['\n'] = 'n';
  t['\r'] = 'r';
  t['\t'] = 't';
  t['\b'] = 'b';
  t['\f'] = 'f';
  t['"'] = '"';
  t['\\'] = '\\';
  return t;
}
constexpr std::array<char, 256> kEscapes = MakeEscapes();

}  // namespace

RowWriter::RowWriter(std::string display, const ColumnOptions& options, bool validate_utf8)
    : display_(std::move(display)), options_(options), validate_utf8_(validate_utf8) {
  out_.reserve(kFlushBytes + 4096);
}

RowWriter::~RowWriter() {
  if (fd_ >= 0) ::close(fd_);
}

FormatStatus RowWriter::Open(const std::filesystem::path& output) {
  fd_ = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    return IoError(fmt::format("cannot create the dataset file: {}", std::strerror(errno)));
  }
  return {};
}

FormatStatus RowWriter::SetHeader(std::span<const std::string> names) {
  has_header_ = true;
  header_size_ = names.size();
  const std::optional<std::string>* explicit_names[3] = {
      &options_.question_name, &options_.positive_name, &options_.negative_name};
  for (int role = 0; role < 3; ++role) {
    const auto& wanted = *explicit_names[role];
    if (wanted && !wanted->empty()) {
      for (size_t i = 0; i < names.size() && index_[role] < 0; ++i) {
        if (EqualsIgnoreCase(Trim(names[i]), Trim(*wanted))) index_[role] = static_cast<int>(i);
      }
      if (index_[role] < 0) {
        return InvalidContentError(fmt::format("{}: column {} ({}_name) not found", Quote(display_),
                                               Quote(*wanted), kRoleNames[role]));
      }
      continue;
    }
    for (std::string_view alias : kAliases[role]) {
      if (alias.empty() || index_[role] >= 0) break;
      for (size_t i = 0; i < names.size(); ++i) {
        bool taken = false;
        for (int r = 0; r < 3; ++r) taken |= index_[r] == static_cast<int>(i);
        if (!taken && EqualsIgnoreCase(Trim(names[i]), alias)) {
          index_[role] = static_cast<int>(i);
          break;
        }
      }
    }
  }
  for (int role = 0; role < 2; ++role) {
    if (index_[role] < 0) {
      std::string found;
      for (size_t i = 0; i < names.size() && i < 20; ++i) {
        if (Trim(names[i]).empty()) continue;
        if (!found.empty()) found += ", ";
        found += Quote(names[i]);
      }
      return InvalidContentError(
          fmt::format("{}: no {} column (looked for {}_name or one of: {}); columns found: {}",
                      Quote(display_), kRoleNames[role], kRoleNames[role],
                      role == 0 ? "question, anchor, q, query, prompt" : "positive, answer, chosen",
                      found.empty() ? "none" : found));
    }
  }
  for (int role = 0; role < 3; ++role) {
    if (index_[role] >= 0) names_[role] = names[static_cast<size_t>(index_[role])];
  }
  return {};
}

FormatStatus RowWriter::CheckCell(std::string_view v, int role, Location where) {
  if (std::memchr(v.data(), 0, v.size()) != nullptr) {
    return InvalidFileError(fmt::format("{}: NUL byte in {} {}, column {}", Quote(display_),
                                        where.unit, where.number, Quote(names_[role])));
  }
  if (validate_utf8_ && !IsValidUtf8(v)) {
    return InvalidFileError(fmt::format("{}: invalid UTF-8 in {} {}, column {}", Quote(display_),
                                        where.unit, where.number, Quote(names_[role])));
  }
  if (IsDdePayload(v)) {
    return InvalidContentError(fmt::format("{}: {} {}, column {}: refused a DDE/command formula {}",
                                           Quote(display_), where.unit, where.number,
                                           Quote(names_[role]), Quote(v)));
  }
  return {};
}

void RowWriter::AppendEscaped(std::string_view v) {
  if (NeedsFormulaPrefix(v)) out_.push_back('\'');
  const char* p = v.data();
  const char* end = p + v.size();
  const char* run = p;
  for (; p < end; ++p) {
    // Eight bytes at a time while none needs escaping (no control character, '"' or '\\').
    while (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
      uint64_t ctrl = (w - kOnes * 0x20) & ~w & kHigh;
      uint64_t q = w ^ (kOnes * '"');
      uint64_t b = w ^ (kOnes * '\\');
      uint64_t quote = (q - kOnes) & ~q & kHigh;
      uint64_t slash = (b - kOnes) & ~b & kHigh;
      if ((ctrl | quote | slash) != 0) break;
      p += 8;
    }
    if (p == end) break;
    char e = kEscapes[static_cast<unsigned char>(*p)];
    if (e == 0) continue;
    out_.append(run, p);
    if (e == 'u') {
      out_.append(fmt::format("\\u{:04x}", static_cast<unsigned char>(*p)));
    } else {
      out_.push_back('\\');
      out_.push_back(e);
    }
    run = p + 1;
  }
  out_.append(run, end);
}

FormatStatus RowWriter::WriteRoles(std::string_view q, std::string_view p, std::string_view n,
                                   Location where) {
  ++seen_;
  const bool triples = index_[2] >= 0;
  if (IsBlank(q) || IsBlank(p) || (triples && IsBlank(n))) {
    ++skipped_;
    return {};
  }
  if (auto s = CheckCell(q, 0, where); !s) return s;
  if (auto s = CheckCell(p, 1, where); !s) return s;
  if (triples) {
    if (auto s = CheckCell(n, 2, where); !s) return s;
  }
  out_.append("{\"question\":\"");
  AppendEscaped(q);
  out_.append("\",\"positive\":\"");
  AppendEscaped(p);
  if (triples) {
    out_.append("\",\"negative\":\"");
    AppendEscaped(n);
  }
  out_.append("\"}\n");
  ++rows_;
  if (out_.size() >= kFlushBytes) return Flush();
  return {};
}

FormatStatus RowWriter::WriteRow(std::span<const std::string_view> cells, Location where) {
  auto cell = [&](int role) -> std::string_view {
    int i = index_[role];
    return i >= 0 && static_cast<size_t>(i) < cells.size() ? cells[static_cast<size_t>(i)]
                                                           : std::string_view();
  };
  return WriteRoles(cell(0), cell(1), cell(2), where);
}

FormatStatus RowWriter::WriteRecord(std::span<const Field> fields, Location where) {
  if (!has_header_) {
    std::vector<std::string> names;
    names.reserve(fields.size());
    for (const Field& f : fields) names.emplace_back(f.key);
    if (auto s = SetHeader(names); !s) return s;
  }
  std::string_view values[3];
  for (int role = 0; role < 3; ++role) {
    if (index_[role] < 0) continue;
    for (const Field& f : fields) {
      if (f.key != names_[role]) continue;
      if (f.kind == Field::Kind::kNested) {
        return InvalidContentError(fmt::format("{}: {} {}, field {}: expected text, found {}",
                                               Quote(display_), where.unit, where.number,
                                               Quote(f.key), "an object or array"));
      }
      values[role] = f.value;
      break;
    }
  }
  return WriteRoles(values[0], values[1], values[2], where);
}

FormatStatus RowWriter::Flush() {
  size_t off = 0;
  while (off < out_.size()) {
    ssize_t n = ::write(fd_, out_.data() + off, out_.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError(fmt::format("cannot write the dataset file: {}", std::strerror(errno)));
    }
    off += static_cast<size_t>(n);
  }
  out_.clear();
  return {};
}

FormatStatus RowWriter::Finish(ConvertResult& result) {
  if (!has_header_ || seen_ == 0) {
    return EmptyFileError(fmt::format("{} contains no rows", Quote(display_)));
  }
  if (rows_ == 0) {
    return InvalidContentError(fmt::format(
        "{}: none of its {} rows has a non-empty {}{}", Quote(display_), seen_,
        index_[2] >= 0 ? "question, positive and negative" : "question and positive", ""));
  }
  if (auto s = Flush(); !s) return s;
  if (::close(fd_) != 0) {
    fd_ = -1;
    return IoError(fmt::format("cannot write the dataset file: {}", std::strerror(errno)));
  }
  fd_ = -1;
  result.rows = rows_;
  result.skipped_rows = skipped_;
  result.classification = index_[2] >= 0 ? 'T' : 'D';
  result.columns.question = names_[0];
  result.columns.positive = names_[1];
  if (index_[2] >= 0) result.columns.negative = names_[2];
  return {};
}

}  // namespace vectorize::datasets::formats
