// XML through expat (streaming): the root's children are rows; a row's child elements (their
// text, descendants included) and its attributes are the columns. DTDs are refused, so no
// entity expansion can happen.

#include <expat.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "datasets/formats/readers.h"

namespace vectorize::datasets::formats {
namespace {

struct XmlState {
  XML_Parser parser = nullptr;
  RowWriter* writer = nullptr;
  std::string_view display;
  const Limits* limits = nullptr;
  int depth = 0;
  uint64_t rows = 0;
  uint64_t row_line = 0;
  std::string arena;
  struct Span {
    size_t key_off, key_len, val_off, val_len;
  };
  std::vector<Span> spans;
  std::string key;
  std::string text;
  std::vector<Field> fields;
  std::optional<ConvertError> failure;

  void Stop(ConvertError e) {
    if (!failure) failure = std::move(e);
    XML_StopParser(parser, XML_FALSE);
  }
  void Add(std::string_view k, std::string_view v) {
    Span s{arena.size(), k.size(), 0, 0};
    arena.append(k);
    s.val_off = arena.size();
    arena.append(v);
    s.val_len = v.size();
    spans.push_back(s);
  }
};

// "ns:question" → "question": prefixes do not change what a column is.
std::string_view LocalName(std::string_view n) {
  size_t colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

void XMLCALL OnStart(void* data, const XML_Char* name, const XML_Char** attrs) {
  auto* st = static_cast<XmlState*>(data);
  ++st->depth;
  if (st->depth == 2) {
    st->arena.clear();
    st->spans.clear();
    st->row_line = XML_GetCurrentLineNumber(st->parser);
    for (const XML_Char** a = attrs; a[0] != nullptr; a += 2) st->Add(LocalName(a[0]), a[1]);
  } else if (st->depth == 3) {
    st->key = LocalName(name);
    st->text.clear();
  }
}

void XMLCALL OnEnd(void* data, const XML_Char*) {
  auto* st = static_cast<XmlState*>(data);
  if (st->depth == 3) {
    st->Add(st->key, st->text);
  } else if (st->depth == 2) {
    ++st->rows;
    st->fields.clear();
    std::string_view arena(st->arena);
    for (const auto& s : st->spans) {
      st->fields.push_back(Field{arena.substr(s.key_off, s.key_len),
                                 arena.substr(s.val_off, s.val_len), Field::Kind::kText});
    }
    auto status = st->writer->WriteRecord(st->fields, Location{"line", st->row_line});
    if (!status) st->Stop(status.error());
  }
  --st->depth;
}

void XMLCALL OnText(void* data, const XML_Char* s, int len) {
  auto* st = static_cast<XmlState*>(data);
  if (st->depth < 3) return;
  st->text.append(s, static_cast<size_t>(len));
  if (st->text.size() > st->limits->max_record_bytes) {
    st->Stop(TooLargeError(fmt::format("{}: an element on line {} is longer than {} bytes",
                                       Quote(st->display), XML_GetCurrentLineNumber(st->parser),
                                       st->limits->max_record_bytes))
                 .error());
  }
}

void XMLCALL OnDoctype(void* data, const XML_Char*, const XML_Char*, const XML_Char*, int) {
  auto* st = static_cast<XmlState*>(data);
  st->Stop(InvalidFileError(fmt::format("{}: line {}: DOCTYPE declarations are not allowed",
                                        Quote(st->display), XML_GetCurrentLineNumber(st->parser)))
               .error());
}

}  // namespace

FormatStatus ConvertXml(const std::filesystem::path& input, std::string_view display,
                        RowWriter& writer, const Limits& limits) {
  int fd = ::open(input.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return InvalidFileError(fmt::format("{}: cannot read the file", Quote(display)));
  XmlState st;
  st.parser = XML_ParserCreate(nullptr);
  st.writer = &writer;
  st.display = display;
  st.limits = &limits;
  XML_SetUserData(st.parser, &st);
  XML_SetElementHandler(st.parser, OnStart, OnEnd);
  XML_SetCharacterDataHandler(st.parser, OnText);
  XML_SetStartDoctypeDeclHandler(st.parser, OnDoctype);
  FormatStatus result;
  std::vector<char> buf(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result = InvalidFileError(fmt::format("{}: read error", Quote(display)));
      break;
    }
    if (XML_Parse(st.parser, buf.data(), static_cast<int>(n), n == 0) != XML_STATUS_OK) {
      if (st.failure) {
        result = std::unexpected(*st.failure);
      } else {
        result = InvalidFileError(fmt::format("{}: invalid XML on line {}, column {}: {}",
                                              Quote(display), XML_GetCurrentLineNumber(st.parser),
                                              XML_GetCurrentColumnNumber(st.parser) + 1,
                                              XML_ErrorString(XML_GetErrorCode(st.parser))));
      }
      break;
    }
    if (n == 0) break;
  }
  XML_ParserFree(st.parser);
  ::close(fd);
  return result;
}

}  // namespace vectorize::datasets::formats
