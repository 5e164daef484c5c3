#include "common/uuid.h"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>

namespace vectorize {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::uint64_t RandomBits() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

}  // namespace

std::string NewUuidV7() {
  // Millisecond timestamp plus a per-process counter in rand_a keeps ids from one process
  // strictly increasing even within a millisecond (RFC 9562 §6.2, method 1).
  static std::atomic<std::uint64_t> last{0};
  const std::uint64_t ms =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  std::uint64_t prev = last.load(std::memory_order_relaxed);
  std::uint64_t next;
  do {
    next = std::max(prev + 1, ms << 12);  // 48-bit ms, 12-bit sequence
  } while (!last.compare_exchange_weak(prev, next, std::memory_order_relaxed));

  std::array<unsigned char, 16> b{};
  const std::uint64_t ts = next >> 12;
  const std::uint64_t seq = next & 0xfff;
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ts >> (40 - 8 * i));
  b[6] = static_cast<unsigned char>(0x70 | (seq >> 8));
  b[7] = static_cast<unsigned char>(seq & 0xff);
  std::uint64_t r = RandomBits();
  for (int i = 8; i < 16; ++i) b[i] = static_cast<unsigned char>(r >> (8 * (i - 8)));
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // variant 10
  return FormatUuid(b);
}

std::string FormatUuid(const std::array<unsigned char, 16>& b) {
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xf]);
  }
  return out;
}

std::optional<std::string> NormalizeUuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  std::string out(text);
  for (size_t i = 0; i < out.size(); ++i) {
    char& c = out[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return std::nullopt;
      continue;
    }
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  return out;
}

}  // namespace vectorize
