#include "tokenizer/vocab_map.h"

namespace vectorize::tokenizer {

bool VocabMap::Insert(std::string_view key, std::int32_t id) {
  if ((size_ + 1) * 2 > slots_.size()) Grow();  // load factor ≤ 0.5 keeps probes short
  const std::uint64_t h = HashOf(key);
  for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.id < 0) {
      s = Slot{h, key, id};
      ++size_;
      return true;
    }
    if (s.hash == h && s.key == key) return false;
  }
}

void VocabMap::Grow() {
  std::vector<Slot> old = std::move(slots_);
  std::size_t cap = old.empty() ? 64 : old.size() * 2;
  slots_.assign(cap, Slot{});
  mask_ = cap - 1;
  size_ = 0;
  for (const Slot& s : old) {
    if (s.id >= 0) Insert(s.key, s.id);
  }
}

}  // namespace vectorize::tokenizer
