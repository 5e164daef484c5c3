// dataset_formats_bench: ConvertFile throughput and peak memory for CSV and JSONL (SPEC §4:
// ≥ 100 MB/s, memory independent of file size). Generates files of the requested sizes under
// --dir, converts each in a forked child (so wait4() reports that conversion's own peak RSS),
// and prints MB/s of input and the child's max RSS. The files are read once before timing, so
// they are in the page cache as the target says.
//
//   build/dataset_formats_bench [--dir /tmp/vz_fmt_bench] [--sizes-mb 10,500] [--keep]

#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "datasets/formats/formats.h"

namespace fs = std::filesystem;
using vectorize::datasets::formats::ConvertFile;

namespace {

const std::vector<std::string> kWords = {
    "Bestellung", "Passwort", "Lieferung", "Rechnung", "Konto",   "Rabatt", "Versand",
    "order",      "password", "delivery",  "invoice",  "account", "refund", "shipping",
    "wie",        "kann",     "ich",       "meine",    "the",     "is",     "my",
    "zurück",     "ändern",   "Größe",     "schnell",  "today",   "where",  "when",
    "customer",   "service",  "product",   "quality",  "payment", "method", "support"};

std::string Sentence(std::mt19937& rng, int words, bool comma) {
  std::string s;
  for (int i = 0; i < words; ++i) {
    if (i) s += (comma && i == words / 2) ? ", " : " ";
    s += kWords[rng() % kWords.size()];
  }
  return s + "?";
}

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

void Generate(const fs::path& path, uint64_t bytes, bool jsonl) {
  std::mt19937 rng(42);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  std::string chunk;
  uint64_t written = 0;
  if (!jsonl) chunk = "question,positive,negative\n";
  while (written < bytes) {
    std::string q = Sentence(rng, 8 + rng() % 6, rng() % 3 == 0);
    std::string p = Sentence(rng, 12 + rng() % 10, rng() % 2 == 0);
    std::string n = Sentence(rng, 10 + rng() % 8, false);
    if (jsonl) {
      chunk += fmt::format("{{\"question\": \"{}\", \"positive\": \"{}\", \"negative\": \"{}\"}}\n",
                           JsonEscape(q), JsonEscape(p), JsonEscape(n));
    } else {
      chunk += fmt::format("\"{}\",\"{}\",{}\n", q, p, n);
    }
    if (chunk.size() > (1 << 20)) {
      f.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      written += chunk.size();
      chunk.clear();
    }
  }
  f.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
}

void WarmCache(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<char> buf(1 << 20);
  while (f.read(buf.data(), static_cast<std::streamsize>(buf.size())) || f.gcount() > 0) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ConvertFile throughput and peak RSS for CSV and JSONL"};
  std::string dir = "/tmp/vz_fmt_bench";
  std::vector<uint64_t> sizes_mb = {10, 500};
  bool keep = false;
  app.add_option("--dir", dir, "where to write the generated files");
  app.add_option("--sizes-mb", sizes_mb, "file sizes in MB")->delimiter(',');
  app.add_flag("--keep", keep, "keep the generated files");
  CLI11_PARSE(app, argc, argv);
  fs::create_directories(dir);

  std::printf("%-6s %8s %10s %10s %9s %12s\n", "format", "size_MB", "rows", "seconds", "MB/s",
              "peak_RSS_MB");
  for (const char* format : {"csv", "jsonl"}) {
    for (uint64_t mb : sizes_mb) {
      fs::path input = fs::path(dir) / fmt::format("bench_{}MB.{}", mb, format);
      fs::path output = fs::path(dir) / fmt::format("bench_{}MB_{}.out.jsonl", mb, format);
      Generate(input, mb * 1000 * 1000, std::string(format) == "jsonl");
      WarmCache(input);
      int pipefd[2];
      if (pipe(pipefd) != 0) return 1;
      pid_t pid = fork();
      if (pid == 0) {
        close(pipefd[0]);
        auto start = std::chrono::steady_clock::now();
        auto r = ConvertFile(input, input.filename().string(), {}, output);
        double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::string msg = r ? fmt::format("{} {}", r->rows, secs) : "error " + r.error().message;
        ssize_t ignored = write(pipefd[1], msg.data(), msg.size());
        (void)ignored;
        _exit(r ? 0 : 1);
      }
      close(pipefd[1]);
      char buf[512] = {0};
      ssize_t got = read(pipefd[0], buf, sizeof buf - 1);
      close(pipefd[0]);
      int status = 0;
      rusage ru{};
      wait4(pid, &status, 0, &ru);
      if (got <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::printf("%-6s %8lu  failed: %s\n", format, static_cast<unsigned long>(mb), buf);
        continue;
      }
      unsigned long long rows = 0;
      double secs = 0;
      std::sscanf(buf, "%llu %lf", &rows, &secs);
      double in_mb = static_cast<double>(fs::file_size(input)) / 1e6;
      std::printf("%-6s %8.1f %10llu %10.3f %9.1f %12.1f\n", format, in_mb, rows, secs,
                  in_mb / secs, static_cast<double>(ru.ru_maxrss) / 1024.0);
      std::fflush(stdout);
      if (!keep) {
        fs::remove(input);
        fs::remove(output);
      }
    }
  }
  return 0;
}
