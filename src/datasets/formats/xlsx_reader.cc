// XLSX: a zip of XML parts (ECMA-376). Pass 1 reads xl/workbook.xml, its relationships and the
// shared-string table; pass 2 streams the chosen sheet through expat. Decompressed bytes are
// counted against the limits, so a zip bomb disguised as a workbook is refused.

#include <archive.h>
#include <archive_entry.h>
#include <expat.h>
#include <fmt/format.h>

#include <cstring>
#include <map>
#include <vector>

#include "datasets/formats/readers.h"

namespace vectorize::datasets::formats {
namespace {

using Archive = std::unique_ptr<archive, decltype(&archive_read_free)>;

// Streams zip entries' bytes with the limits applied.
class XlsxArchive {
 public:
  XlsxArchive(const std::filesystem::path& path, std::string_view display, const Limits& limits,
              uint64_t file_bytes)
      : a_(archive_read_new(), &archive_read_free),
        display_(display),
        limits_(limits),
        file_bytes_(file_bytes) {
    archive_read_support_format_zip(a_.get());
    open_ = archive_read_open_filename(a_.get(), path.c_str(), 1 << 16) == ARCHIVE_OK;
  }

  FormatStatus Corrupt() const {
    return InvalidFileError(fmt::format(
        "{}: not a valid XLSX workbook (a zip of XML parts): {}", Quote(display_),
        archive_error_string(a_.get()) ? archive_error_string(a_.get()) : "unreadable"));
  }

  // Next entry name; nullopt at the end.
  std::expected<std::optional<std::string>, ConvertError> Next() {
    if (!open_) return std::unexpected(Corrupt().error());
    archive_entry* e = nullptr;
    int r = archive_read_next_header(a_.get(), &e);
    if (r == ARCHIVE_EOF) return std::optional<std::string>();
    if (r < ARCHIVE_WARN) return std::unexpected(Corrupt().error());
    const char* name = archive_entry_pathname(e);
    return std::optional<std::string>(name ? name : "");
  }

  // Feeds the current entry to `sink(data, size)` (returns false to stop).
  template <typename Sink>
  FormatStatus Stream(Sink&& sink) {
    char buf[1 << 16];
    for (;;) {
      la_ssize_t n = archive_read_data(a_.get(), buf, sizeof buf);
      if (n < 0) return Corrupt();
      total_ += static_cast<uint64_t>(n);
      if (total_ > limits_.max_file_bytes) {
        return TooLargeError(fmt::format("{}: the workbook decompresses to more than {} bytes",
                                         Quote(display_), limits_.max_file_bytes));
      }
      if (total_ > limits_.ratio_check_min_bytes &&
          static_cast<double>(total_) >
              limits_.max_compression_ratio * static_cast<double>(file_bytes_)) {
        return InvalidFileError(
            fmt::format("{}: the workbook decompresses more than {:.0f} times its size (zip bomb?)",
                        Quote(display_), limits_.max_compression_ratio));
      }
      if (!sink(buf, static_cast<size_t>(n), n == 0)) return {};
      if (n == 0) return {};
    }
  }

 private:
  Archive a_;
  std::string_view display_;
  const Limits& limits_;
  uint64_t file_bytes_;
  bool open_ = false;
  uint64_t total_ = 0;
};

// A parser whose handlers see `State`; Feed() returns the XML error, if any.
template <typename State>
class Expat {
 public:
  explicit Expat(State* st) : p_(XML_ParserCreate(nullptr)) {
    st->parser = p_;
    XML_SetUserData(p_, st);
  }
  ~Expat() { XML_ParserFree(p_); }
  XML_Parser get() { return p_; }
  bool Feed(const char* data, size_t n, bool last) {
    return XML_Parse(p_, data, static_cast<int>(n), last) == XML_STATUS_OK;
  }
  std::string Error() const {
    return fmt::format("line {}: {}", XML_GetCurrentLineNumber(p_),
                       XML_ErrorString(XML_GetErrorCode(p_)));
  }

 private:
  XML_Parser p_;
};

const char* Attr(const XML_Char** attrs, std::string_view name) {
  for (const XML_Char** a = attrs; a[0] != nullptr; a += 2) {
    std::string_view n(a[0]);
    if (n == name) return a[1];
    size_t colon = n.find(':');
    // r:id under whatever prefix the producer chose.
    if (name == "r:id" && colon != std::string_view::npos && n.substr(colon) == ":id") return a[1];
  }
  return nullptr;
}

std::string_view LocalName(std::string_view n) {
  size_t colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

// ---- workbook.xml, workbook.xml.rels ----

struct WorkbookState {
  XML_Parser parser = nullptr;
  std::vector<std::pair<std::string, std::string>> sheets;  // name, r:id
  std::map<std::string, std::string> rels;                  // Id → Target
};

void XMLCALL WorkbookStart(void* d, const XML_Char* name, const XML_Char** attrs) {
  auto* st = static_cast<WorkbookState*>(d);
  std::string_view n = LocalName(name);
  if (n == "sheet") {
    const char* sheet_name = Attr(attrs, "name");
    const char* rid = Attr(attrs, "r:id");
    st->sheets.emplace_back(sheet_name ? sheet_name : "", rid ? rid : "");
  } else if (n == "Relationship") {
    const char* id = Attr(attrs, "Id");
    const char* target = Attr(attrs, "Target");
    if (id && target) st->rels[id] = target;
  }
}

// ---- sharedStrings.xml: <si> of <t> or rich runs <r><t>; phonetic <rPh> ignored ----

struct SharedStrings {
  XML_Parser parser = nullptr;
  std::vector<std::string> strings;
  std::string current;
  bool in_t = false;
  int rph = 0;
  uint64_t bytes = 0;
};

void XMLCALL SstStart(void* d, const XML_Char* name, const XML_Char**) {
  auto* st = static_cast<SharedStrings*>(d);
  std::string_view n = LocalName(name);
  if (n == "si") st->current.clear();
  if (n == "rPh") ++st->rph;
  if (n == "t" && st->rph == 0) st->in_t = true;
}
void XMLCALL SstEnd(void* d, const XML_Char* name) {
  auto* st = static_cast<SharedStrings*>(d);
  std::string_view n = LocalName(name);
  if (n == "t") st->in_t = false;
  if (n == "rPh") --st->rph;
  if (n == "si") st->strings.push_back(std::move(st->current));
}
void XMLCALL SstText(void* d, const XML_Char* s, int len) {
  auto* st = static_cast<SharedStrings*>(d);
  if (st->in_t) st->current.append(s, static_cast<size_t>(len));
}

// ---- the sheet ----

struct SheetState {
  XML_Parser parser = nullptr;
  RowWriter* writer = nullptr;
  std::string_view display;
  const Limits* limits = nullptr;
  const std::vector<std::string>* shared = nullptr;
  std::vector<std::string> cells;  // current row
  std::vector<std::string_view> views;
  uint64_t row_number = 0;
  size_t next_col = 0;
  size_t col = 0;
  std::string type;
  std::string text;
  bool in_value = false;  // <v> or <t> (inline string)
  int rph = 0;
  std::optional<ConvertError> failure;

  void Stop(ConvertError e) {
    if (!failure) failure = std::move(e);
    XML_StopParser(parser, XML_FALSE);
  }
};

// "BC12" → 54 (0-based column); npos if no letters.
size_t ColumnOf(const char* ref) {
  size_t col = 0;
  bool any = false;
  for (const char* p = ref; *p >= 'A' && *p <= 'Z'; ++p) {
    col = col * 26 + static_cast<size_t>(*p - 'A' + 1);
    any = true;
    if (col > 16384) return std::string::npos;
  }
  return any ? col - 1 : std::string::npos;
}

void XMLCALL SheetStart(void* d, const XML_Char* name, const XML_Char** attrs) {
  auto* st = static_cast<SheetState*>(d);
  std::string_view n = LocalName(name);
  if (n == "row") {
    const char* r = Attr(attrs, "r");
    st->row_number = r ? std::strtoull(r, nullptr, 10) : st->row_number + 1;
    st->cells.clear();
    st->next_col = 0;
  } else if (n == "c") {
    const char* r = Attr(attrs, "r");
    size_t c = r ? ColumnOf(r) : std::string::npos;
    st->col = c == std::string::npos ? st->next_col : c;
    st->next_col = st->col + 1;
    const char* t = Attr(attrs, "t");
    st->type = t ? t : "n";
    st->text.clear();
  } else if (n == "rPh") {
    ++st->rph;
  } else if ((n == "v" || n == "t") && st->rph == 0) {
    st->in_value = true;
  }
}

void XMLCALL SheetText(void* d, const XML_Char* s, int len) {
  auto* st = static_cast<SheetState*>(d);
  if (!st->in_value) return;
  st->text.append(s, static_cast<size_t>(len));
  if (st->text.size() > st->limits->max_record_bytes) {
    st->Stop(
        TooLargeError(fmt::format("{}: a cell in row {} is longer than {} bytes",
                                  Quote(st->display), st->row_number, st->limits->max_record_bytes))
            .error());
  }
}

void XMLCALL SheetEnd(void* d, const XML_Char* name) {
  auto* st = static_cast<SheetState*>(d);
  std::string_view n = LocalName(name);
  if (n == "v" || n == "t") {
    st->in_value = false;
  } else if (n == "rPh") {
    --st->rph;
  } else if (n == "c") {
    std::string value;
    if (st->type == "s" && !st->text.empty()) {
      char* end = nullptr;
      unsigned long long idx = std::strtoull(st->text.c_str(), &end, 10);
      if (*end != '\0' || idx >= st->shared->size()) {
        st->Stop(InvalidFileError(fmt::format("{}: row {}: shared string {} does not exist",
                                              Quote(st->display), st->row_number, Quote(st->text)))
                     .error());
        return;
      }
      value = (*st->shared)[idx];
    } else if (st->type == "s") {
      // A styled but empty cell some producers type as a shared string.
    } else if (st->type == "b") {
      value = st->text == "1" ? "TRUE" : "FALSE";
    } else {
      value = std::move(st->text);  // n, str, inlineStr, e, d: the text as stored
    }
    // Past the header a cell beyond its width is never read: do not grow the row for it.
    if (st->writer->has_header() && st->col >= st->writer->header_size()) {
      st->text.clear();
      return;
    }
    if (st->col >= st->cells.size()) st->cells.resize(st->col + 1);
    st->cells[st->col] = std::move(value);
    st->text.clear();
  } else if (n == "row") {
    bool any = false;
    for (const auto& c : st->cells) any |= !c.empty();
    if (!any) return;
    if (!st->writer->has_header()) {
      if (auto s = st->writer->SetHeader(st->cells); !s) st->Stop(s.error());
      return;
    }
    st->views.assign(st->cells.begin(), st->cells.end());
    if (auto s = st->writer->WriteRow(st->views, Location{"row", st->row_number}); !s) {
      st->Stop(s.error());
    }
  }
}

std::string ResolveTarget(std::string target) {
  if (!target.empty() && target[0] == '/') return target.substr(1);
  if (target.rfind("xl/", 0) == 0) return target;
  return "xl/" + target;
}

}  // namespace

FormatStatus ConvertXlsx(const std::filesystem::path& input, std::string_view display,
                         RowWriter& writer, const ColumnOptions& options, const Limits& limits) {
  std::error_code ec;
  uint64_t file_bytes = std::filesystem::file_size(input, ec);
  WorkbookState wb;
  SharedStrings sst;
  bool have_workbook = false;
  {
    XlsxArchive zip(input, display, limits, file_bytes);
    for (;;) {
      auto name = zip.Next();
      if (!name) return std::unexpected(name.error());
      if (!*name) break;
      const std::string& n = **name;
      if (n == "xl/workbook.xml" || n == "xl/_rels/workbook.xml.rels") {
        have_workbook |= n == "xl/workbook.xml";
        Expat<WorkbookState> p(&wb);
        XML_SetStartElementHandler(p.get(), WorkbookStart);
        bool ok = true;
        auto s = zip.Stream([&](const char* d, size_t len, bool last) {
          ok = p.Feed(d, len, last);
          return ok;
        });
        if (!s) return s;
        if (!ok)
          return InvalidFileError(
              fmt::format("{}: {} is not valid XML ({})", Quote(display), n, p.Error()));
      } else if (n == "xl/sharedStrings.xml") {
        Expat<SharedStrings> p(&sst);
        XML_SetElementHandler(p.get(), SstStart, SstEnd);
        XML_SetCharacterDataHandler(p.get(), SstText);
        bool ok = true;
        auto s = zip.Stream([&](const char* d, size_t len, bool last) {
          ok = p.Feed(d, len, last);
          return ok;
        });
        if (!s) return s;
        if (!ok)
          return InvalidFileError(
              fmt::format("{}: {} is not valid XML ({})", Quote(display), n, p.Error()));
      }
    }
  }
  if (!have_workbook) {
    return InvalidFileError(
        fmt::format("{}: not an XLSX workbook (no xl/workbook.xml)", Quote(display)));
  }
  if (options.sheet_index >= wb.sheets.size()) {
    return InvalidContentError(fmt::format(
        "{}: sheet_index {} is out of range; the workbook has {} sheet{}", Quote(display),
        options.sheet_index, wb.sheets.size(), wb.sheets.size() == 1 ? "" : "s"));
  }
  const auto& [sheet_name, rid] = wb.sheets[options.sheet_index];
  auto rel = wb.rels.find(rid);
  std::string target = rel != wb.rels.end()
                           ? ResolveTarget(rel->second)
                           : fmt::format("xl/worksheets/sheet{}.xml", options.sheet_index + 1);

  XlsxArchive zip(input, display, limits, file_bytes);
  for (;;) {
    auto name = zip.Next();
    if (!name) return std::unexpected(name.error());
    if (!*name) break;
    if (**name != target) continue;
    SheetState st;
    st.writer = &writer;
    st.display = display;
    st.limits = &limits;
    st.shared = &sst.strings;
    Expat<SheetState> p(&st);
    XML_SetElementHandler(p.get(), SheetStart, SheetEnd);
    XML_SetCharacterDataHandler(p.get(), SheetText);
    bool ok = true;
    auto s = zip.Stream([&](const char* d, size_t len, bool last) {
      ok = p.Feed(d, len, last);
      return ok;
    });
    if (!s) return s;
    if (st.failure) return std::unexpected(*st.failure);
    if (!ok) {
      return InvalidFileError(fmt::format("{}: sheet {} is not valid XML ({})", Quote(display),
                                          Quote(sheet_name), p.Error()));
    }
    return {};
  }
  return InvalidFileError(fmt::format("{}: sheet {} ({}) is missing from the workbook",
                                      Quote(display), Quote(sheet_name), target));
}

}  // namespace vectorize::datasets::formats
