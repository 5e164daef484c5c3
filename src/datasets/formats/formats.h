#pragma once
// Dataset file formats (SPEC §3.1): converts one uploaded file (CSV, JSON, JSONL, XML, XLSX, XLS)
// into the stored form, JSON Lines of {"question":…,"positive":…[,"negative":…]}; extracts zip
// uploads safely; maps Hugging Face Hub column sets to the three roles.
//
// A library of pure file-to-file functions: no HTTP, no database. Every function streams (memory
// does not grow with the input's size, except the shared-string table of an XLSX and the whole
// of an XLS, which FreeXL loads), is thread-safe (no shared state) and never throws; every
// failure is a ConvertError carrying the SPEC §3 public code, the HTTP status and a message that
// says what is wrong and where (file, line or row, column). See docs/datasets.md.

#include <cstdint>
#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace vectorize::datasets::formats {

// Public codes (SPEC §3 error bodies) used by this library.
inline constexpr std::string_view kEmptyFile = "EMPTY_FILE";                  // 400
inline constexpr std::string_view kInvalidFile = "INVALID_FILE";              // 400
inline constexpr std::string_view kUnsupportedFormat = "UNSUPPORTED_FORMAT";  // 422
inline constexpr std::string_view kInvalidCsvFormat = "INVALID_CSV_FORMAT";   // 422
inline constexpr std::string_view kPayloadTooLarge = "PAYLOAD_TOO_LARGE";     // 413
inline constexpr std::string_view kServerError = "SERVER_ERROR";              // 500 (disk I/O)

// What went wrong, ready for the client: {"code": code, "message": message} with `status`.
//   EMPTY_FILE 400          zero bytes, only a BOM/whitespace, or a header without rows
//   INVALID_FILE 400        unreadable content: malformed JSON/XML, NUL bytes, invalid UTF-8,
//                           corrupt or hostile zip (slip, ratio bomb), a name with no stem
//   UNSUPPORTED_FORMAT 422  extension not one of csv, json, jsonl, xml, xlsx, xls
//   INVALID_CSV_FORMAT 422  well-formed file with the wrong content: missing columns, ragged CSV
//                           rows, a DDE payload, a non-text value in a mapped column, no usable row
//   PAYLOAD_TOO_LARGE 413   a Limits bound was crossed (file, field, zip entry, zip total, entries)
//   SERVER_ERROR 500        the output could not be written (disk full, permissions)
struct ConvertError {
  std::string code;
  int status = 400;
  std::string message;

  // As the service-wide Error: kInvalidArgument (4xx other than 413), kResourceExhausted (413)
  // or kInternal (500), with public_code = code.
  [[nodiscard]] Error ToError() const;
};

template <typename T>
using FormatResult = std::expected<T, ConvertError>;

// Upper bounds; every one crossed gives PAYLOAD_TOO_LARGE 413 (except the ratio: INVALID_FILE).
// The service fills them from its settings; the defaults suit tests and small deployments.
struct Limits {
  // One input file as uploaded (bytes on disk). Also bounds the decompressed XLSX parts.
  uint64_t max_file_bytes = 1ull << 30;
  // One CSV record / JSONL line / JSON or XML value, in bytes: bounds the parser's buffer.
  uint64_t max_record_bytes = 16ull << 20;
  // Zip uploads: entries (files and directories) in the archive, bytes of one entry and of all
  // entries once decompressed (counted while streaming, never trusted from the headers).
  uint32_t max_zip_entries = 10000;
  uint64_t max_zip_entry_bytes = 1ull << 30;
  uint64_t max_zip_total_bytes = 2ull << 30;
  // Decompressed ÷ compressed bytes, of the whole archive and of each entry, checked once more
  // than ratio_check_min_bytes have been written. Deflate bombs reach ~1000; the Python original's
  // valid `very_big.zip` (repeated rows) is ~205, so 400 refuses bombs and keeps real data.
  double max_compression_ratio = 400.0;
  uint64_t ratio_check_min_bytes = 1ull << 20;
};

// Which source columns feed the three roles. `negative` absent = duples.
struct ColumnMapping {
  std::string question;
  std::string positive;
  std::optional<std::string> negative;

  bool operator==(const ColumnMapping&) const = default;
};

// Upload query options (POST /datasets?question_name=…). Explicit names win and must exist
// (case-insensitive), else INVALID_CSV_FORMAT naming the column; roles without an explicit name
// are found by name or alias, case-insensitive, first match in this order:
//   question: question, anchor, q, query, prompt
//   positive: positive, answer, chosen
//   negative: negative, random, rejected, no_context
// question and positive are required; negative is optional (triples when found).
struct ColumnOptions {
  std::optional<std::string> question_name;
  std::optional<std::string> positive_name;
  std::optional<std::string> negative_name;
  // XLSX/XLS: 0-based sheet in workbook order; out of range → INVALID_CSV_FORMAT.
  uint32_t sheet_index = 0;
};

enum class InputFormat { kCsv, kJson, kJsonl, kXml, kXlsx, kXls };
std::string_view InputFormatName(InputFormat f);  // "csv", "json", …

// By the extension of `filename` (case-insensitive): csv, json, jsonl, xml, xlsx, xls.
// Anything else (including "zip", which the caller handles with ExtractZip) →
// UNSUPPORTED_FORMAT 422.
FormatResult<InputFormat> DetectFormat(std::string_view filename);

struct ConvertResult {
  InputFormat format = InputFormat::kCsv;
  uint64_t rows = 0;          // lines written to output_jsonl
  uint64_t skipped_rows = 0;  // rows without a question or positive (or a negative, for 'T')
  char classification = 'D';  // 'D' duples, 'T' triples (a negative column was mapped)
  ColumnMapping columns;      // the source column names used
  // CSV only: the delimiter found (',', ';', '\t' or '|') and the input encoding: "utf-8",
  // "utf-8-sig" (BOM), "utf-16le", "utf-16be" (BOM) or "windows-1252" (Latin-1 superset).
  char delimiter = 0;
  std::string encoding;
  uint64_t input_bytes = 0;
};

// Converts `input` (its format from `original_filename`'s extension) into `output_jsonl`
// (created or truncated; parent directory must exist). Cells beginning with = + - @ (after
// leading whitespace or control characters) or with a tab or CR are written with a leading
// apostrophe; DDE payloads (=cmd|…, @SUM(…)|…, formulas naming cmd/powershell…) refuse the file
// with the row. Rows whose question or positive is empty (or whitespace) are skipped and counted;
// no usable row at all → INVALID_CSV_FORMAT. On any error `output_jsonl` does not exist
// afterwards. Thread-safe; the files are the caller's.
FormatResult<ConvertResult> ConvertFile(const std::filesystem::path& input,
                                        std::string_view original_filename,
                                        const ColumnOptions& options,
                                        const std::filesystem::path& output_jsonl,
                                        const Limits& limits = {});

// The stored name's stem from an uploaded file name: its last path component (after the last
// '/' or '\\'; so "../../etc/x.csv" → "x") without the final ".ext"; every byte outside
// [A-Za-z0-9_-] (NUL, '%', ';', spaces, non-ASCII …) becomes '_', runs of '_' collapse,
// leading/trailing '_' and '-' are trimmed, at most 128 characters. Nothing is URL-decoded.
// "; rm -rf %2F.csv" → "rm_-rf_2F", "%00nullbyte.csv" → "00nullbyte".
// A name with no stem (".csv", "dir/.csv", "___.json", "") → INVALID_FILE 400.
FormatResult<std::string> SanitizeFilename(std::string_view name);

// One regular file written by ExtractZip.
struct ExtractedFile {
  std::string name;            // the entry's path inside the archive, as stored (for messages)
  std::string filename;        // its last component, e.g. "default.csv" (pass to ConvertFile)
  std::filesystem::path path;  // where it was written, inside dest_dir
  uint64_t bytes = 0;
};

// Extracts the regular files of the zip `zip` into `dest_dir` (must exist; files get unique
// generated names there, never names from the archive), in archive order. Skips directories
// and junk (__MACOSX/, names whose last component starts with '.', e.g. .DS_Store). Refuses the
// whole archive — deleting whatever it had written — on:
//   INVALID_FILE 400       not a zip or corrupt (bad headers, CRC, truncated), encrypted
//                          entries, zip slip (absolute path, "..", drive letters, symlinks or
//                          hard links), compression ratio above the limit, no regular file left
//   PAYLOAD_TOO_LARGE 413  more than max_zip_entries entries, an entry above max_zip_entry_bytes,
//                          all entries above max_zip_total_bytes
// Zero-byte entries are extracted (ConvertFile then says EMPTY_FILE for them). Thread-safe.
FormatResult<std::vector<ExtractedFile>> ExtractZip(const std::filesystem::path& zip,
                                                    const std::filesystem::path& dest_dir,
                                                    const Limits& limits = {});

// Hub import: the mapping for a dataset's column names under the 34 allowed schemas of the
// Python original (docs/datasets.md lists them), or nullopt when none fits. Matching is exact
// names, case-insensitive; every column of a schema must be present (others are ignored). When
// several fit, the one giving triples wins over duples, then the earlier in the list. Two-column
// schemas give duples (fix: the original indexed a third column); four-column schemas
// (system, X, chosen, rejected) map X → question, not the system prompt (fix).
std::optional<ColumnMapping> MapHubColumns(const std::vector<std::string>& columns);

// The 34 schemas, in priority order (for documentation and tests).
const std::vector<std::vector<std::string_view>>& HubSchemas();

}  // namespace vectorize::datasets::formats
