#include "inference/torch_pickle.h"

#include <caffe2/serialize/inline_container.h>
#include <fmt/format.h>

#include <cstring>
#include <memory>
#include <stdexcept>
#include <variant>
#include <vector>

namespace vectorize::inference {
namespace {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

struct Global {
  std::string module, name;
};
struct Storage {
  c10::ScalarType dtype;
  std::string key;
};
struct Opaque {};  // the result of a callable we do not run
struct Mark {};
using Items = std::vector<ValuePtr>;
struct Tuple {
  Items items;
};
struct List {
  Items items;
};
struct Dict {
  std::vector<std::pair<ValuePtr, ValuePtr>> items;
};

struct Value {
  std::variant<std::monostate, bool, int64_t, double, std::string, Global, Storage, Opaque, Mark,
               Tuple, List, Dict, torch::Tensor>
      v;
};

// Malformed input; turned into an Error at the API boundary.
struct PickleError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

ValuePtr Make(auto x) {
  auto p = std::make_shared<Value>();
  p->v = std::move(x);
  return p;
}

template <typename T>
T& As(const ValuePtr& p, const char* what) {
  if (!p || !std::holds_alternative<T>(p->v)) throw PickleError(fmt::format("expected {}", what));
  return std::get<T>(p->v);
}

int64_t AsInt(const ValuePtr& p) { return As<int64_t>(p, "an integer"); }

std::vector<int64_t> AsInts(const ValuePtr& p) {
  std::vector<int64_t> out;
  for (const auto& x : As<Tuple>(p, "a tuple").items) out.push_back(AsInt(x));
  return out;
}

c10::ScalarType StorageDType(const std::string& name) {
  static const std::map<std::string, c10::ScalarType> kTypes{
      {"FloatStorage", torch::kFloat32}, {"DoubleStorage", torch::kFloat64},
      {"HalfStorage", torch::kFloat16},  {"BFloat16Storage", torch::kBFloat16},
      {"LongStorage", torch::kInt64},    {"IntStorage", torch::kInt32},
      {"ShortStorage", torch::kInt16},   {"CharStorage", torch::kInt8},
      {"ByteStorage", torch::kUInt8},    {"BoolStorage", torch::kBool}};
  auto it = kTypes.find(name);
  if (it == kTypes.end()) throw PickleError("unsupported storage type " + name);
  return it->second;
}

class Unpickler {
 public:
  Unpickler(std::string_view pickle, const StorageLoader& storage)
      : p_(pickle.data()), end_(pickle.data() + pickle.size()), storage_(storage) {}

  ValuePtr Run() {
    while (true) {
      const auto op = static_cast<unsigned char>(Byte());
      switch (op) {
        case 0x80: Byte(); break;   // PROTO
        case 0x95: Take(8); break;  // FRAME
        case '.': return Pop();     // STOP
        case '(': stack_.push_back(Make(Mark{})); break;
        case 'N': stack_.push_back(Make(std::monostate{})); break;
        case 0x88: stack_.push_back(Make(true)); break;
        case 0x89: stack_.push_back(Make(false)); break;
        case 'K': stack_.push_back(Make(int64_t{static_cast<unsigned char>(Byte())})); break;
        case 'M': stack_.push_back(Make(static_cast<int64_t>(Le(2)))); break;
        case 'J': stack_.push_back(Make(static_cast<int64_t>(static_cast<int32_t>(Le(4))))); break;
        case 0x8a: stack_.push_back(Make(Long1())); break;
        case 'G': stack_.push_back(Make(BinFloat())); break;
        case 'X': stack_.push_back(Make(Str(Le(4)))); break;
        case 0x8c: stack_.push_back(Make(Str(static_cast<unsigned char>(Byte())))); break;
        case 'T': stack_.push_back(Make(Str(Le(4)))); break;
        case 'U': stack_.push_back(Make(Str(static_cast<unsigned char>(Byte())))); break;
        case 'c': {
          Global g;
          g.module = Line();
          g.name = Line();
          stack_.push_back(Make(std::move(g)));
          break;
        }
        case 'q': memo_[static_cast<unsigned char>(Byte())] = Top(); break;  // BINPUT
        case 'r': memo_[Le(4)] = Top(); break;                               // LONG_BINPUT
        case 0x94: memo_[memo_.size()] = Top(); break;                       // MEMOIZE
        case 'h': stack_.push_back(Memo(static_cast<unsigned char>(Byte()))); break;
        case 'j': stack_.push_back(Memo(Le(4))); break;
        case ')': stack_.push_back(Make(Tuple{})); break;
        case 0x85: stack_.push_back(Make(Tuple{PopN(1)})); break;
        case 0x86: stack_.push_back(Make(Tuple{PopN(2)})); break;
        case 0x87: stack_.push_back(Make(Tuple{PopN(3)})); break;
        case 't': stack_.push_back(Make(Tuple{PopToMark()})); break;
        case ']': stack_.push_back(Make(List{})); break;
        case 'l': stack_.push_back(Make(List{PopToMark()})); break;
        case '}': stack_.push_back(Make(Dict{})); break;
        case 'a': {
          auto x = Pop();
          As<List>(Top(), "a list").items.push_back(x);
          break;
        }
        case 'e': {
          auto xs = PopToMark();
          auto& list = As<List>(Top(), "a list").items;
          list.insert(list.end(), xs.begin(), xs.end());
          break;
        }
        case 's': {
          auto v = Pop();
          auto k = Pop();
          SetItem(Top(), k, v);
          break;
        }
        case 'u': {
          auto xs = PopToMark();
          if (xs.size() % 2) throw PickleError("odd SETITEMS");
          for (std::size_t i = 0; i < xs.size(); i += 2) SetItem(Top(), xs[i], xs[i + 1]);
          break;
        }
        case 'b': Pop(); break;  // BUILD: object state (e.g. state_dict's _metadata) is ignored
        case 'Q': stack_.push_back(PersistentLoad(Pop())); break;
        case 'R': {
          auto args = Pop();
          auto fn = Pop();
          stack_.push_back(Reduce(As<Global>(fn, "a callable"), As<Tuple>(args, "a tuple")));
          break;
        }
        default: throw PickleError(fmt::format("unsupported pickle opcode 0x{:02x}", op));
      }
    }
  }

 private:
  char Byte() {
    if (p_ >= end_) throw PickleError("pickle ends early");
    return *p_++;
  }
  const char* Take(std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n) throw PickleError("pickle ends early");
    const char* at = p_;
    p_ += n;
    return at;
  }
  uint64_t Le(int n) {
    const auto* b = reinterpret_cast<const unsigned char*>(Take(n));
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | b[i];
    return v;
  }
  int64_t Long1() {
    const int n = static_cast<unsigned char>(Byte());
    if (n > 8) throw PickleError("integer too large");
    if (n == 0) return 0;
    uint64_t v = Le(n);
    if (n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);  // sign-extend
    return static_cast<int64_t>(v);
  }
  double BinFloat() {
    const auto* b = reinterpret_cast<const unsigned char*>(Take(8));
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = (bits << 8) | b[i];  // big-endian
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
  }
  std::string Str(uint64_t n) {
    if (n > static_cast<uint64_t>(end_ - p_)) throw PickleError("string beyond the pickle");
    return std::string(Take(n), n);
  }
  std::string Line() {
    std::string s;
    for (char c = Byte(); c != '\n'; c = Byte()) s.push_back(c);
    return s;
  }
  ValuePtr Top() {
    if (stack_.empty()) throw PickleError("stack underflow");
    return stack_.back();
  }
  ValuePtr Pop() {
    auto v = Top();
    stack_.pop_back();
    return v;
  }
  Items PopN(std::size_t n) {
    if (stack_.size() < n) throw PickleError("stack underflow");
    Items out(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
    stack_.resize(stack_.size() - n);
    return out;
  }
  Items PopToMark() {
    for (std::size_t i = stack_.size(); i-- > 0;) {
      if (std::holds_alternative<Mark>(stack_[i]->v)) {
        Items out(stack_.begin() + static_cast<std::ptrdiff_t>(i) + 1, stack_.end());
        stack_.resize(i);
        return out;
      }
    }
    throw PickleError("no MARK on the stack");
  }
  ValuePtr Memo(uint64_t i) {
    auto it = memo_.find(i);
    if (it == memo_.end()) throw PickleError("unknown memo index");
    return it->second;
  }
  static void SetItem(const ValuePtr& dict, const ValuePtr& k, const ValuePtr& v) {
    As<Dict>(dict, "a dict").items.emplace_back(k, v);
  }

  // ('storage', <torch.FloatStorage>, key, location, numel)
  ValuePtr PersistentLoad(const ValuePtr& pid) {
    const auto& t = As<Tuple>(pid, "a persistent id tuple").items;
    if (t.size() < 5 || As<std::string>(t[0], "'storage'") != "storage") {
      throw PickleError("unsupported persistent id");
    }
    return Make(Storage{StorageDType(As<Global>(t[1], "a storage type").name),
                        As<std::string>(t[2], "a storage key")});
  }

  ValuePtr Reduce(const Global& fn, const Tuple& args) {
    if (fn.module == "collections" && fn.name == "OrderedDict") return Make(Dict{});
    if (fn.module == "torch._utils" && fn.name == "_rebuild_tensor_v2") {
      if (args.items.size() < 4) throw PickleError("_rebuild_tensor_v2: too few arguments");
      return Make(RebuildTensor(As<Storage>(args.items[0], "a storage"), AsInt(args.items[1]),
                                AsInts(args.items[2]), AsInts(args.items[3])));
    }
    if (fn.module == "torch._utils" && fn.name == "_rebuild_parameter") {
      if (args.items.empty()) throw PickleError("_rebuild_parameter: no data");
      return args.items[0];
    }
    return Make(Opaque{});
  }

  torch::Tensor RebuildTensor(const Storage& s, int64_t offset, const std::vector<int64_t>& sizes,
                              const std::vector<int64_t>& strides) {
    if (sizes.size() != strides.size()) throw PickleError("sizes and strides differ in rank");
    const std::string_view bytes = storage_(s.key);
    const auto elem = static_cast<int64_t>(c10::elementSize(s.dtype));
    const int64_t numel = static_cast<int64_t>(bytes.size()) / elem;
    int64_t last = offset;  // highest element index the view touches (overflow-checked)
    bool empty = false;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      if (sizes[i] < 0 || strides[i] < 0) throw PickleError("negative size or stride");
      if (sizes[i] == 0) empty = true;
    }
    for (std::size_t i = 0; i < sizes.size() && !empty; ++i) {
      int64_t span = 0;
      if (__builtin_mul_overflow(sizes[i] - 1, strides[i], &span) ||
          __builtin_add_overflow(last, span, &last)) {
        throw PickleError("tensor extent overflows");
      }
    }
    if (empty) return torch::empty(sizes, torch::TensorOptions().dtype(s.dtype));
    if (offset < 0 || last >= numel) {
      throw PickleError(fmt::format("tensor lies outside its storage 'data/{}'", s.key));
    }
    const auto* base = bytes.data() + offset * elem;
    return torch::from_blob(const_cast<char*>(base), sizes, strides,
                            torch::TensorOptions().dtype(s.dtype))
        .clone();
  }

  const char* p_;
  const char* end_;
  const StorageLoader& storage_;
  std::vector<ValuePtr> stack_;
  std::map<uint64_t, ValuePtr> memo_;
};

}  // namespace

Result<std::map<std::string, torch::Tensor>> UnpickleStateDict(std::string_view pickle,
                                                               const StorageLoader& storage,
                                                               const std::string& name) {
  try {
    Unpickler unpickler(pickle, storage);
    auto root = unpickler.Run();
    if (!std::holds_alternative<Dict>(root->v)) {
      return Fail(Error::InvalidArgument(fmt::format("{}: not a state dict", name)));
    }
    std::map<std::string, torch::Tensor> out;
    for (const auto& [k, v] : std::get<Dict>(root->v).items) {
      if (std::holds_alternative<std::string>(k->v) &&
          std::holds_alternative<torch::Tensor>(v->v)) {
        out.emplace(std::get<std::string>(k->v), std::get<torch::Tensor>(v->v));
      }
    }
    return out;
  } catch (const std::exception& e) {
    std::string what = e.what();
    what = what.substr(0, what.find('\n'));
    return Fail(Error::InvalidArgument(fmt::format(
        "{}: cannot read this PyTorch state dict ({}); convert it to safetensors", name, what)));
  }
}

Result<std::map<std::string, torch::Tensor>> ReadTorchStateDict(const std::filesystem::path& file) {
  const std::string name = file.filename().string();
  try {
    caffe2::serialize::PyTorchStreamReader archive(file.string());
    auto [pkl, size] = archive.getRecord("data.pkl");
    // One storage record in memory at a time: each tensor is cloned out of it at once, so peak
    // memory is the model plus its largest tensor.
    std::string cached_key;
    std::tuple<at::DataPtr, std::size_t> cached;
    StorageLoader loader = [&](const std::string& key) -> std::string_view {
      if (key != cached_key || !std::get<0>(cached)) {
        std::get<0>(cached) = at::DataPtr();
        cached = archive.getRecord("data/" + key);
        cached_key = key;
      }
      return {static_cast<const char*>(std::get<0>(cached).get()), std::get<1>(cached)};
    };
    return UnpickleStateDict({static_cast<const char*>(pkl.get()), size}, loader, name);
  } catch (const std::exception& e) {
    std::string what = e.what();
    what = what.substr(0, what.find('\n'));
    return Fail(Error::InvalidArgument(fmt::format(
        "{}: cannot read this PyTorch state dict ({}); convert it to safetensors", name, what)));
  }
}

}  // namespace vectorize::inference
