# Writes OUT: a C++ file defining SqliteMigrations() from the *.sql files in DIR
# (named NNNN_name.sql), each embedded as a raw string literal. Run at build time.
file(GLOB files "${DIR}/*.sql")
list(SORT files)
set(body "")
foreach(f IN LISTS files)
  get_filename_component(name "${f}" NAME_WE)
  string(SUBSTRING "${name}" 0 4 num)
  math(EXPR version "${num}")
  file(READ "${f}" sql)
  string(APPEND body "    {${version}, \"${name}\", R\"vzsql(${sql})vzsql\"},\n")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from src/storage/migrations/${DIALECT}/*.sql. Do not edit.\n"
  "#include \"storage/migrations.h\"\n\nnamespace vectorize::storage {\n\n"
  "std::span<const Migration> ${FUNC}() {\n  static constexpr Migration kMigrations[] = {\n"
  "${body}  };\n  return kMigrations;\n}\n\n}  // namespace vectorize::storage\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
