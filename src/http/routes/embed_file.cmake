# Writes OUT: a C++ file defining `std::string_view vectorize::http::FUNC()` that returns the
# contents of the file IN, embedded as a raw string literal. Run at build time (see
# CMakeLists.txt). Fails if the file contains the literal's closing delimiter.
# Usage: cmake -DIN=docs.html -DOUT=docs_html.cc -DFUNC=DocsHtml -DHEADER=http/routes/x.h -P embed_file.cmake
foreach(var IN ITEMS IN OUT FUNC HEADER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_file.cmake: -D${var}=... is required")
  endif()
endforeach()
set(delim "vzembed")
file(READ "${IN}" content)
string(FIND "${content}" ")${delim}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains ')${delim}\"', which would end the raw string literal")
endif()
get_filename_component(name "${IN}" NAME)
file(WRITE "${OUT}.tmp" "// Generated from ${name} by embed_file.cmake. Do not edit.\n"
  "#include \"${HEADER}\"\n\nnamespace vectorize::http {\n\n"
  "std::string_view ${FUNC}() {\n  static constexpr std::string_view kText = R\"${delim}(${content})${delim}\";\n"
  "  return kText;\n}\n\n}  // namespace vectorize::http\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
