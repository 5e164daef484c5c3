#pragma once
// Spreadsheet formula injection (SPEC §3.1): which cells get a leading apostrophe, which are
// DDE payloads that refuse the file. Pure functions.

#include <string_view>

namespace vectorize::datasets::formats {

// True when a spreadsheet could run the cell: its first character after leading whitespace and
// ASCII control characters is = + - or @, or it starts with a tab or carriage return.
bool NeedsFormulaPrefix(std::string_view cell);

// True for dynamic data exchange payloads and formulas that start programs, which are refused
// rather than neutralised. Only formula-like cells (see above, = + - @ after whitespace) count:
//   - a program name or ')' / quote directly followed by '|' (=cmd|' /C calc'!A1, @SUM(1)|x);
//   - DDE( or DDEAUTO;
//   - '=' or '@' formulas naming cmd, powershell, pwsh, mshta, rundll32, regsvr32, wscript,
//     cscript, certutil or bitsadmin (=HYPERLINK("cmd …")).
bool IsDdePayload(std::string_view cell);

}  // namespace vectorize::datasets::formats
