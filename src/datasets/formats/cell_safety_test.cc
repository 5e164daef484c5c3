#include "datasets/formats/cell_safety.h"

#include <gtest/gtest.h>

namespace vectorize::datasets::formats {
namespace {

TEST(CellSafety, FormulaTriggers) {
  for (const char* s :
       {"=1+1", "+1", "-5", "@SUM(A1)", "  =x", "\n@x", "\t", "\ttext", "\r=1", "\x01=1"}) {
    EXPECT_TRUE(NeedsFormulaPrefix(s)) << s;
  }
  for (const char* s : {"", "text", "a=b", " text", "1-2", "'=1", "\x1f"}) {
    EXPECT_FALSE(NeedsFormulaPrefix(s)) << s;
  }
}

TEST(CellSafety, DdePayloads) {
  for (const char* s :
       {"=cmd|' /C calc'!A1", "=CMD|' /C notepad'!'A1'", "@SUM(1+1)|cmd", "+thing|'x'!A0",
        "-2+3+cmd|' /C calc'!A0", " =MSEXCEL|'\\..\\x'!''", "=DDE(\"cmd\";\"/C calc\";\"x\")",
        "=DDEAUTO c:\\\\windows", "=HYPERLINK(\"http://x\",\"cmd /c calc\")",
        "@HYPERLINK(\"powershell -e AAAA\")", "=rundll32 x"}) {
    EXPECT_TRUE(IsDdePayload(s)) << s;
  }
  for (const char* s : {"=SUM(1+1)", "=HYPERLINK(\"http://example.com\")", "- a | b",
                        "cmd|calc without trigger", "- use cmd to start", "=commander",
                        "=IMPORTXML(CONCAT(\"http://\",A1),\"//*\")", "plain | pipe"}) {
    EXPECT_FALSE(IsDdePayload(s)) << s;
  }
}

}  // namespace
}  // namespace vectorize::datasets::formats
