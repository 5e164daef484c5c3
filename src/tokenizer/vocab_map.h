#pragma once
// A read-only string → id hash table for vocabulary lookups on the tokenizer's hot path: open
// addressing with linear probing over a power-of-two table, the full 64-bit hash stored per slot
// so that a probe compares strings only on a hash match (std::unordered_map compared keys on
// every chained node and spent most of the tokenizer's time in memcmp).
// Keys are views: the owner keeps the strings alive. Thread safety: Find is const and may run
// concurrently once building is done.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace vectorize::tokenizer {

class VocabMap {
 public:
  // Inserts key → id unless key is present (the first id wins). Returns whether it was added.
  bool Insert(std::string_view key, std::int32_t id);
  [[nodiscard]] std::optional<std::int32_t> Find(std::string_view key) const {
    if (slots_.empty()) return std::nullopt;
    const std::uint64_t h = HashOf(key);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id < 0) return std::nullopt;
      if (s.hash == h && s.key == key) return s.id;
    }
  }
  [[nodiscard]] std::size_t size() const { return size_; }
  template <typename F>
  void ForEach(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.id >= 0) f(s.key, s.id);
    }
  }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::string_view key;
    std::int32_t id = -1;  // -1 = empty
  };
  static std::uint64_t HashOf(std::string_view s) {
    std::uint64_t h = 1469598103934665603ULL;  // FNV-1a: keys are short
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
    return h ^ (h >> 29);
  }
  void Grow();

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace vectorize::tokenizer
