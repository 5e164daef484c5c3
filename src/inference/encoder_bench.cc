// encoder_bench MODEL_DIR [batch_size=32] [seq_len=16 | MIN-MAX] [sentences=1024] [threads=0]
// Times Encoder::Embed on random id sequences ([CLS] … [SEP]; lengths fixed or uniform in
// MIN..MAX) and prints one JSON line with sentences/s, tokens/s and batch latency percentiles.
// Used by bench/; never run as a test.

#include <ATen/Parallel.h>
#include <dlfcn.h>

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
  const std::string lens = argc > 3 ? argv[3] : "16";
  const int min_len = std::max(2, std::atoi(lens.c_str()));
  const int max_len =
      lens.find('-') != std::string::npos ? std::atoi(lens.c_str() + lens.find('-') + 1) : min_len;
  const int count = argc > 4 ? std::atoi(argv[4]) : 1024;
  EncoderOptions options;
  options.threads = argc > 5 ? std::atoi(argv[5]) : 0;
  auto encoder = Encoder::LoadDir(argv[1], options);
  if (!encoder) {
    std::fprintf(stderr, "load failed: %s\n", encoder.error().message.c_str());
    return 1;
  }
  std::mt19937 rng(0);
  std::uniform_int_distribution<int> word(999, (*encoder)->vocab_size() - 1);
  std::uniform_int_distribution<int> length(min_len, std::max(min_len, max_len));
  long tokens = 0;
  std::vector<std::vector<std::vector<std::int32_t>>> batches;
  for (int done = 0; done < count; done += batch) {
    auto& b = batches.emplace_back();
    for (int i = 0; i < std::min(batch, count - done); ++i) {
      auto& seq = b.emplace_back();
      seq.push_back(101);
      const int n = length(rng);
      for (int j = 0; j < n - 2; ++j) seq.push_back(word(rng));
      seq.push_back(102);
      tokens += n;
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
  int blas_threads = -1;  // OpenBLAS's own pool (Encoder::Load holds it to 1)
  if (void* blas = ::dlopen("libopenblas.so.0", RTLD_LAZY | RTLD_NOLOAD)) {
    if (auto* get = reinterpret_cast<int (*)()>(::dlsym(blas, "openblas_get_num_threads"))) {
      blas_threads = get();
    }
    ::dlclose(blas);
  }
  auto pct = [&](double q) { return ms[std::min(ms.size() - 1, std::size_t(q * ms.size()))]; };
  std::printf(
      "{\"sentences\": %d, \"batch_size\": %d, \"seq_len\": \"%s\", \"threads\": %d, "
      "\"blas_threads\": %d, "
      "\"seconds\": %.4f, \"sentences_per_s\": %.1f, \"tokens_per_s\": %.0f, "
      "\"batch_p50_ms\": %.3f, \"batch_p99_ms\": %.3f}\n",
      count, batch, lens.c_str(), options.threads, blas_threads, total, count / total,
      tokens / total, pct(0.5), pct(0.99));
  return 0;
}
