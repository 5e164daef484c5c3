// encoder_bench MODEL_DIR [batch_size=32] [seq_len=16] [sentences=1024] [threads=0]
// Times Encoder::Embed on random id sequences ([CLS] … [SEP]) and prints one JSON line with
// sentences/s and batch latency percentiles. Used by bench/; never run as a test.

#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "inference/encoder.h"

int main(int argc, char** argv) {
  using namespace vectorize::inference;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL_DIR [batch] [seq_len] [sentences] [threads]\n", argv[0]);
    return 2;
  }
  const int batch = argc > 2 ? std::atoi(argv[2]) : 32;
  const int seq_len = argc > 3 ? std::atoi(argv[3]) : 16;
  const int count = argc > 4 ? std::atoi(argv[4]) : 1024;
  EncoderOptions options;
  options.intra_op_threads = argc > 5 ? std::atoi(argv[5]) : 0;
  auto encoder = Encoder::LoadDir(argv[1], options);
  if (!encoder) {
    std::fprintf(stderr, "load failed: %s\n", encoder.error().message.c_str());
    return 1;
  }
  std::mt19937 rng(0);
  std::uniform_int_distribution<int> word(999, (*encoder)->vocab_size() - 1);
  std::vector<std::vector<std::vector<std::int32_t>>> batches;
  for (int done = 0; done < count; done += batch) {
    auto& b = batches.emplace_back();
    for (int i = 0; i < std::min(batch, count - done); ++i) {
      auto& seq = b.emplace_back();
      seq.push_back(101);
      for (int j = 0; j < seq_len - 2; ++j) seq.push_back(word(rng));
      seq.push_back(102);
    }
  }
  (void)(*encoder)->Embed(batches.front());  // warm-up
  std::vector<double> ms;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& b : batches) {
    const auto t0 = std::chrono::steady_clock::now();
    auto out = (*encoder)->Embed(b);
    if (!out) {
      std::fprintf(stderr, "embed failed: %s\n", out.error().message.c_str());
      return 1;
    }
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  const double total =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double q) { return ms[std::min(ms.size() - 1, std::size_t(q * ms.size()))]; };
  std::printf(
      "{\"sentences\": %d, \"batch_size\": %d, \"seq_len\": %d, \"threads\": %d, "
      "\"seconds\": %.4f, \"sentences_per_s\": %.1f, \"batch_p50_ms\": %.3f, "
      "\"batch_p99_ms\": %.3f}\n",
      count, batch, seq_len, at::get_num_threads(), total, count / total, pct(0.5), pct(0.99));
  return 0;
}
