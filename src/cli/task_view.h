#pragma once
// How the command line shows tasks: parsing the API's task JSON (GET /tasks records, GET
// /tasks/{id} details) and formatting tables, details, relative times and progress bars.
// Pure functions of their arguments (the current time is passed in), so that tests pin them.

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/time.h"

namespace vectorize::cli {

// One task as the API returns it; detail-only fields are empty for list records.
struct TaskView {
  std::string id;
  std::string type;
  char status = '?';  // Q R D F C
  std::optional<std::string> tag;
  std::optional<Micros> created_at, end_date, started_at;
  std::optional<std::string> error_msg;
  std::optional<double> progress;  // 0..1
  std::optional<std::string> progress_msg;
};

// Errors: internal when the value is not a task object (id, task_type, task_status present).
[[nodiscard]] Result<TaskView> ParseTask(const boost::json::value& v);
// A GET /tasks body. Errors: internal when it is not a JSON array of tasks.
[[nodiscard]] Result<std::vector<TaskView>> ParseTaskList(std::string_view body);

// "QUEUED", "RUNNING", "DONE", "FAILED", "CANCELLED"; "?" for anything else.
std::string_view StatusName(char status);
// ANSI colour for a status (Q grey, R blue, D green, F red, C yellow); "" for unknown.
std::string_view StatusColor(char status);
inline constexpr std::string_view kAnsiReset = "\x1b[0m";

// "just now", "42s ago", "3m ago", "5h ago", "2d ago"; "in 10s" for a time ahead of now.
std::string FormatAgo(Micros now, Micros t);
// Compact duration: "850ms", "12s", "3m05s", "2h03m", "4d05h". Negative counts as 0.
std::string FormatDuration(Micros d);
// "[#####.....]" with `width` cells between the brackets; fraction clamped to 0..1.
std::string ProgressBar(double fraction, int width);
// "40%" (rounded down, so 100% means done).
std::string FormatPercent(double fraction);

// Display width counted in code points (no wide-character tables: good enough for tags).
size_t DisplayWidth(std::string_view s);
// `s` cut to at most `width` display cells, with "…" as the last cell when cut. Control
// characters become spaces so that server text cannot move the cursor.
std::string Truncate(std::string_view s, size_t width);
// `s` padded with spaces to `width` cells (never cut).
std::string PadRight(std::string_view s, size_t width);

struct ViewOptions {
  Micros now = 0;
  size_t width = 100;  // terminal columns
  bool wide = false;   // full 36-character ids instead of the last 8 hex digits
  bool color = false;  // ANSI colours for statuses
  bool bars = false;   // progress bars (watch) instead of plain percentages
};

// Table with a header row: ID TYPE STATUS TAG CREATED DURATION PROGRESS, every line at most
// options.width cells (ids keep their full length with --wide). "No tasks." when empty.
std::string FormatTaskTable(const std::vector<TaskView>& tasks, const ViewOptions& options);
// The PROGRESS cell: error for F, percentage (or bar) and message for R, "-" when unknown.
std::string ProgressCell(const TaskView& t, const ViewOptions& options, size_t width);

// "key: value" lines for a GET /tasks/{id} object, inputs and result pretty-printed below.
std::string FormatTaskDetail(const boost::json::object& detail, const ViewOptions& options);

// JSON with two-space indentation, every line prefixed by `indent` spaces.
std::string PrettyJson(const boost::json::value& v, int indent = 0);

}  // namespace vectorize::cli
