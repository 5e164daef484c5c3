// The state-dict unpickler on real torch.save output and on hostile bytes.

#include "inference/torch_pickle.h"

#include <caffe2/serialize/inline_container.h>
#include <gtest/gtest.h>

#include <random>

namespace vectorize::inference {
namespace {

namespace fs = std::filesystem;

// data.pkl and every storage record of a torch.save archive.
struct Archive {
  std::string pickle;
  std::map<std::string, std::string> storages;

  StorageLoader Loader() const {
    return [this](const std::string& key) -> std::string_view {
      return std::string_view(storages.at(key));
    };
  }
};

Archive ReadArchive(const fs::path& file) {
  caffe2::serialize::PyTorchStreamReader reader(file.string());
  Archive a;
  auto read = [&](const std::string& name) {
    auto [data, size] = reader.getRecord(name);
    return std::string(static_cast<const char*>(data.get()), size);
  };
  a.pickle = read("data.pkl");
  for (const auto& name : reader.getAllRecords()) {
    if (name.rfind("data/", 0) == 0) a.storages[name.substr(5)] = read(name);
  }
  return a;
}

const fs::path kBin = fs::path(VZ_TEST_MODELS) / "bin_prefixed" / "pytorch_model.bin";

TEST(TorchPickleTest, ReadsAnOrderedDictStateDict) {
  auto state = ReadTorchStateDict(kBin);
  ASSERT_TRUE(state.has_value()) << state.error().message;
  // 2 layers × 16 + 5 embedding tensors + 2 pooler tensors.
  EXPECT_EQ(state->size(), 39u);
  const auto& word = state->at("bert.embeddings.word_embeddings.weight");
  EXPECT_EQ(word.sizes(), (std::vector<int64_t>{30522, 32}));
  EXPECT_EQ(word.scalar_type(), torch::kFloat32);
}

TEST(TorchPickleTest, EveryTruncationIsAnErrorNotACrash) {
  const Archive a = ReadArchive(kBin);
  ASSERT_TRUE(UnpickleStateDict(a.pickle, a.Loader(), "x.bin").has_value());
  // Every cut in the opening bytes (protocol, globals, first entries), then every 7th.
  for (std::size_t n = 0; n < a.pickle.size(); n += n < 512 ? 1 : 7) {
    auto r = UnpickleStateDict(std::string_view(a.pickle).substr(0, n), a.Loader(), "x.bin");
    ASSERT_FALSE(r.has_value()) << n;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(TorchPickleTest, RandomMutationsNeverCrash) {
  const Archive a = ReadArchive(kBin);
  std::mt19937 rng(42);
  int failures = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string p = a.pickle;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) p[rng() % p.size()] = static_cast<char>(rng() % 256);
    auto loader = [&](const std::string& key) -> std::string_view {
      auto it = a.storages.find(key);
      if (it == a.storages.end()) throw std::runtime_error("no storage " + key);
      return it->second;
    };
    auto r = UnpickleStateDict(p, loader, "x.bin");
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
      ++failures;
    }
  }
  EXPECT_GT(failures, 100);  // the mutations did reach the parser
}

// A hand-written pickle: {"w": _rebuild_tensor_v2(storage, offset, sizes, strides)}.
std::string TensorPickle(int64_t offset, int64_t size, int64_t stride) {
  auto str = [](const std::string& s) {
    std::string out = "X";
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((s.size() >> (8 * i)) & 0xff));
    return out + s;
  };
  auto long8 = [](int64_t v) {
    std::string out = "\x8a\x08";
    for (int i = 0; i < 8; ++i)
      out.push_back(static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
    return out;
  };
  std::string p = "\x80\x02}(";
  p += str("w");
  p += "ctorch._utils\n_rebuild_tensor_v2\n(";
  p += "(";
  p += str("storage");
  p += "ctorch\nFloatStorage\n";
  p += str("0");
  p += str("cpu");
  p += "K\x04tQ";
  p += long8(offset);
  p += long8(size);
  p += "\x85";
  p += long8(stride);
  p += "\x85";
  p += "\x89"
       "}"
       "tR"
       "u.";
  return p;
}

TEST(TorchPickleTest, ViewsOutsideTheirStorageAreRefused) {
  const std::string storage(16, '\0');  // 4 floats
  StorageLoader loader = [&](const std::string&) -> std::string_view { return storage; };
  auto ok = UnpickleStateDict(TensorPickle(1, 3, 1), loader, "x.bin");
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->at("w").numel(), 3);
  for (auto [offset, size, stride] : {std::tuple<int64_t, int64_t, int64_t>{2, 3, 1},
                                      {0, 5, 1},
                                      {-1, 2, 1},
                                      {0, 2, 4},
                                      {0, int64_t{1} << 62, int64_t{1} << 62},
                                      {0, 3, -1}}) {
    auto r = UnpickleStateDict(TensorPickle(offset, size, stride), loader, "x.bin");
    ASSERT_FALSE(r.has_value()) << offset << " " << size << " " << stride;
    EXPECT_NE(r.error().message.find("x.bin: cannot read this PyTorch state dict"),
              std::string::npos);
  }
}

TEST(TorchPickleTest, UnknownCallablesAreNeverRun) {
  // {"w": os.system("true")} — a callable outside the whitelist is an opaque value, skipped.
  using namespace std::string_literals;
  const std::string p = "\x80\x02}(X\x01\x00\x00\x00wcos\nsystem\nX\x04\x00\x00\x00true\x85Ru."s;
  StorageLoader loader = [](const std::string&) -> std::string_view { return {}; };
  auto r = UnpickleStateDict(p, loader, "x.bin");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(r->empty());
}

}  // namespace
}  // namespace vectorize::inference
