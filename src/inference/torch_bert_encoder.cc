// TorchBertEncoder: the Encoder contract (encoder.h) on libtorch.

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <fmt/format.h>
#include <sched.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <thread>

#include "inference/batch_plan.h"
#include "inference/bert_model.h"
#include "inference/encoder.h"
#include "inference/plugin.h"
#include "inference/weights.h"
#include "inference/work_pool.h"

namespace vectorize::inference {
namespace {

// Threads: every part of a batch runs on one thread (batch_plan.h), and parts run side by side
// on a pool shared by all encoders of the process. So both of libtorch's thread pools are held
// to one thread: its OpenMP team (an ICV of each calling thread) and OpenBLAS's own pthread pool
// (process-wide; the GEMMs run there through libblas.so.3, and left alone it starts a thread per
// core inside every GEMM, which then compete with the other parts).
void UseOneIntraOpThread() {
  thread_local bool done = false;
  if (done) return;
  at::set_num_threads(1);
  done = true;
}

void UseSingleThreadedBlas() {
  // This code runs in a dlopen'ed module whose libraries may be outside the global symbol scope:
  // look OpenBLAS up by its handle (already loaded through libblas.so.3; RTLD_NOLOAD).
  using SetFn = void (*)(int);
  void* blas = ::dlopen("libopenblas.so.0", RTLD_LAZY | RTLD_NOLOAD);
  void* sym = ::dlsym(blas != nullptr ? blas : RTLD_DEFAULT, "openblas_set_num_threads");
  if (sym != nullptr) reinterpret_cast<SetFn>(sym)(1);
  if (blas != nullptr) ::dlclose(blas);
}

// CPUs this process may run on (its affinity mask, e.g. under taskset or a cgroup cpuset).
int UsableCpus() {
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

std::mutex pool_mu;
std::shared_ptr<WorkPool> shared_pool;  // guarded by pool_mu

// Sizes the process's pool (0 = one thread per usable CPU). A new size replaces the pool for
// encoders loaded from now on; loaded ones keep theirs until they are unloaded.
void ConfigurePool(int threads) {
  const int size = threads > 0 ? threads : UsableCpus();
  std::lock_guard lock(pool_mu);
  if (shared_pool && shared_pool->size() == size) return;
  UseSingleThreadedBlas();
  shared_pool = std::make_shared<WorkPool>(size, [] { UseOneIntraOpThread(); });
}

std::shared_ptr<WorkPool> SharedPool() {
  std::lock_guard lock(pool_mu);
  return shared_pool;
}

// Chunks whose longest sequence is at most this long run attention in kernels.h; longer
// ones through libtorch's batched products (BLAS wins once a sequence's q·kᵀ is a real GEMM).
constexpr int64_t kKernelMaxLength = 64;

// A batch of one part spreads that part's pass over the pool from this many tokens (below it,
// waking the other threads several times per layer costs more than it saves).
constexpr int64_t kSpreadMinTokens = 128;

class TorchBertEncoder final : public Encoder {
 public:
  TorchBertEncoder(const modelfiles::ModelDirInfo& info, BertModel model)
      : model_(std::move(model)),
        pooling_(info.pooling),
        normalize_(info.normalize),
        max_seq_length_(info.max_seq_length),
        dimension_(info.config.hidden_size),
        vocab_size_(info.config.vocab_size) {}

  Result<std::vector<std::vector<float>>> Embed(
      const std::vector<std::vector<std::int32_t>>& batch) override {
    std::vector<std::vector<float>> out(batch.size());
    if (batch.empty()) return out;
    std::vector<int64_t> lengths(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].empty()) {
        return Fail(Error::InvalidArgument(fmt::format("input {} has no tokens", i)));
      }
      for (std::size_t j = 0; j < batch[i].size(); ++j) {
        if (batch[i][j] < 0 || batch[i][j] >= vocab_size_) {
          return Fail(Error::InvalidArgument(
              fmt::format("input {}, position {}: token id {} is outside the vocabulary (0..{})", i,
                          j, batch[i][j], vocab_size_ - 1)));
        }
      }
      lengths[i] = std::min<int64_t>(static_cast<int64_t>(batch[i].size()), max_seq_length_);
    }
    try {
      const auto plan = PlanBatch(lengths, pool_->size(), model_->config().hidden_size);
      // A batch that is one part (one input, or a pool of one thread) but long enough to be
      // worth it spreads that part's pass itself over the pool (ForwardPacked's `spread`).
      const int ways = plan.size() == 1 && plan[0].tokens >= kSpreadMinTokens ? pool_->size() : 1;
      pool_->Run(plan.size(), [&](std::size_t p) { RunPart(batch, lengths, plan[p], ways, out); });
    } catch (const std::exception& e) {
      return Fail(Error::Internal(fmt::format("inference failed: {}", e.what())));
    }
    return out;
  }

  int dimension() const override { return dimension_; }
  int max_seq_length() const override { return max_seq_length_; }
  bool normalizes() const override { return normalize_; }
  int vocab_size() const override { return vocab_size_; }

 private:
  // One part of the batch (batch_plan.h), packed end to end: on the calling thread alone, or
  // spread over `ways` threads of the pool when ways > 1.
  void RunPart(const std::vector<std::vector<std::int32_t>>& batch,
               const std::vector<int64_t>& lengths, const PartPlan& part, int ways,
               std::vector<std::vector<float>>& out) {
    UseOneIntraOpThread();
    c10::InferenceMode inference;
    const auto n_rows = static_cast<int64_t>(part.rows.size());
    auto ids = torch::empty({part.tokens}, torch::kInt64);
    auto positions = torch::empty({part.tokens}, torch::kInt64);
    auto ids_a = ids.accessor<int64_t, 1>();
    auto pos_a = positions.accessor<int64_t, 1>();
    std::vector<int64_t> starts(part.rows.size());
    int64_t t = 0;
    for (std::size_t k = 0; k < part.rows.size(); ++k) {
      const auto& seq = batch[part.rows[k]];
      const int64_t n = lengths[part.rows[k]];
      starts[k] = t;
      for (int64_t j = 0; j < n; ++j, ++t) {
        // Truncation keeps the first n - 1 ids and the final [SEP].
        ids_a[t] = (j == n - 1) ? seq.back() : seq[j];
        pos_a[t] = j;
      }
    }
    std::vector<PackedChunk> chunks;
    for (const AttentionChunk& c : part.chunks) {
      std::vector<int64_t> chunk_lengths;
      for (std::size_t k = c.first; k < c.first + c.count; ++k) {
        chunk_lengths.push_back(lengths[part.rows[k]]);
      }
      chunks.push_back(MakePackedChunk(c.offset, chunk_lengths, c.length <= kKernelMaxLength));
    }
    const Spread spread = [this](std::size_t n, const std::function<void(std::size_t)>& fn) {
      pool_->Run(n, fn);
    };
    auto pooled = PoolPacked(model_->ForwardPacked(ids, positions, chunks, spread, ways), starts,
                             lengths, part);
    if (normalize_) {
      pooled = torch::nn::functional::normalize(
          pooled, torch::nn::functional::NormalizeFuncOptions().p(2).dim(1).eps(1e-12));
    }
    pooled = pooled.contiguous();
    const float* data = pooled.data_ptr<float>();
    for (int64_t k = 0; k < n_rows; ++k) {
      out[part.rows[k]].assign(data + k * dimension_, data + (k + 1) * dimension_);
    }
  }

  // Sentence-transformers pooling over each sequence's rows of the packed hidden state [T, H].
  torch::Tensor PoolPacked(const torch::Tensor& hidden, const std::vector<int64_t>& starts,
                           const std::vector<int64_t>& lengths, const PartPlan& part) const {
    const auto n_rows = static_cast<int64_t>(part.rows.size());
    switch (pooling_) {
      case modelfiles::Pooling::kCls: {
        auto index = torch::tensor(starts, torch::kInt64);
        return hidden.index_select(0, index);
      }
      case modelfiles::Pooling::kMax: {
        std::vector<torch::Tensor> rows;
        for (int64_t k = 0; k < n_rows; ++k) {
          rows.push_back(hidden.narrow(0, starts[k], lengths[part.rows[k]]).amax(0));
        }
        return torch::stack(rows);
      }
      case modelfiles::Pooling::kMean: break;
    }
    auto segment = torch::empty({hidden.size(0)}, torch::kInt64);
    auto counts = torch::empty({n_rows, 1}, torch::kFloat32);
    auto segment_a = segment.accessor<int64_t, 1>();
    auto counts_a = counts.accessor<float, 2>();
    for (int64_t k = 0; k < n_rows; ++k) {
      const int64_t n = lengths[part.rows[k]];
      for (int64_t j = 0; j < n; ++j) segment_a[starts[k] + j] = k;
      counts_a[k][0] = static_cast<float>(n);
    }
    return torch::zeros({n_rows, hidden.size(1)}, hidden.options())
        .index_add_(0, segment, hidden)
        .div_(counts);
  }

  BertModel model_;
  modelfiles::Pooling pooling_;
  bool normalize_;
  int max_seq_length_;
  int dimension_;
  int vocab_size_;
  std::shared_ptr<WorkPool> pool_ = SharedPool();
};

}  // namespace

Result<std::unique_ptr<Encoder>> LoadTorchEncoder(const modelfiles::ModelDirInfo& info,
                                                  const EncoderOptions& options) {
  ConfigurePool(options.threads);
  try {
    BertModel model(info.config);
    if (auto s = LoadBertWeights(*model, info); !s) return Fail(s.error());
    model->eval();
    model->FuseQkv();
    return std::make_unique<TorchBertEncoder>(info, std::move(model));
  } catch (const std::exception& e) {
    return Fail(Error::Internal(fmt::format("building the model failed: {}", e.what())));
  }
}

}  // namespace vectorize::inference
