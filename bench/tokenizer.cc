// tokenizer_bench: WordPiece tokenizer throughput on one core (SPEC §4: ≥ 1M tokens/s/core).
// Generates a deterministic English-like corpus (common words, rarer long words that split into
// several pieces, capitals, digits, punctuation, a few accented words) and encodes it line by
// line, as the embeddings service does with its inputs. Prints tokens/s and MB/s.
//
//   build/tokenizer_bench [--tokenizer tests/testdata/tokenizer.json] [--lines 200000]

#include "tokenizer/tokenizer.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  CLI::App app{"WordPiece tokenizer throughput"};
  std::string path = "tests/testdata/tokenizer.json";
  std::size_t lines = 200000;
  int rounds = 3;
  app.add_option("--tokenizer", path, "tokenizer.json to load");
  app.add_option("--lines", lines, "sentences in the generated corpus");
  app.add_option("--rounds", rounds, "passes over the corpus (best one is reported)");
  CLI11_PARSE(app, argc, argv);

  auto tok = vectorize::tokenizer::Tokenizer::FromFile(path);
  if (!tok) {
    std::fprintf(stderr, "%s\n", tok.error().message.c_str());
    return 1;
  }
  static const char* kCommon[] = {
      "the",  "of",   "and",    "to",    "in",     "is",       "that",    "for",    "it",
      "as",   "was",  "with",   "be",    "by",     "on",       "not",     "he",     "this",
      "are",  "or",   "his",    "from",  "at",     "which",    "but",     "have",   "an",
      "had",  "they", "you",    "were",  "their",  "one",      "all",     "we",     "can",
      "her",  "has",  "there",  "been",  "if",     "more",     "when",    "will",   "would",
      "who",  "so",   "no",     "model", "search", "results",  "service", "data",   "query",
      "user", "time", "people", "world", "system", "language", "number",  "between"};
  static const char* kRare[] = {"embeddings",
                                "tokenization",
                                "vectorize",
                                "retrieval",
                                "transformer",
                                "unaffable",
                                "hyperparameters",
                                "multilingual",
                                "preprocessing",
                                "benchmarking",
                                "café",
                                "naïve",
                                "Ångström",
                                "COVID-19",
                                "state-of-the-art",
                                "e-mail",
                                "GPU",
                                "2024",
                                "3.14",
                                "O'Reilly"};
  std::mt19937 rng(42);
  std::vector<std::string> corpus;
  corpus.reserve(lines);
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < lines; ++i) {
    std::string s;
    int words = 8 + static_cast<int>(rng() % 17);
    for (int w = 0; w < words; ++w) {
      if (w) s += ' ';
      std::string word =
          rng() % 8 == 0 ? kRare[rng() % std::size(kRare)] : kCommon[rng() % std::size(kCommon)];
      if (w == 0 || rng() % 20 == 0) word[0] = static_cast<char>(std::toupper(word[0]));
      s += word;
      if (rng() % 12 == 0) s += ',';
    }
    s += rng() % 5 == 0 ? "?" : ".";
    bytes += s.size();
    corpus.push_back(std::move(s));
  }

  double best = 0;
  std::size_t tokens = 0;
  for (int r = 0; r < rounds; ++r) {
    tokens = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (const std::string& s : corpus) tokens += (*tok)->Encode(s, 0, false).size();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, static_cast<double>(tokens) / secs);
  }
  std::printf("corpus: %zu sentences, %.1f MB, %zu tokens (%.1f per sentence)\n", lines,
              static_cast<double>(bytes) / 1e6, tokens,
              static_cast<double>(tokens) / static_cast<double>(lines));
  std::printf("tokenizer: %.2f M tokens/s on one core (%.1f MB/s), best of %d\n", best / 1e6,
              best / static_cast<double>(tokens) * static_cast<double>(bytes) / 1e6, rounds);
  return 0;
}
