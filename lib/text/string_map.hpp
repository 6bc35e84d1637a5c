// StringIdMap: token text -> id, looked up by string_view without allocating. Open addressing with
// linear probing over one pool of key bytes; the WordPiece loop probes it for every candidate piece,
// so find() is inline.
//
//   StringIdMap m;  m.insert("hello", 7592);
//   m.find(std::string_view(word).substr(0, 5)) == 7592;   // -1 when absent
#pragma once
#include <cstdint>
#include <cstring>      // memcpy, memcmp
#include <string>
#include <string_view>
#include <vector>

namespace bert::text {

// A fast hash for short keys (wyhash-style folding of 8-byte words; tails read as overlapping words).
inline uint64_t hash_bytes(const char* p, size_t n) {
  auto mix = [](uint64_t a, uint64_t b) {
    __uint128_t r = __uint128_t(a) * b;
    return uint64_t(r) ^ uint64_t(r >> 64);
  };
  uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xA0761D6478BD642Full);
  while (n > 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    h = mix(h ^ v, 0xE7037ED1A0B428DBull);
    p += 8;
    n -= 8;
  }
  uint64_t v;
  if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    v = (uint64_t(a) << 32) | b;
  } else if (n > 0) {
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    v = (uint64_t(u[0]) << 16) | (uint64_t(u[n >> 1]) << 8) | u[n - 1];
  } else {
    v = 0;
  }
  return mix(h ^ v, 0x8EBC6AF09C88C6E3ull);
}

class StringIdMap {
 public:
  // A later insert of an existing key replaces its id (Python dict assignment, as HF's load_vocab).
  void insert(std::string_view key, int32_t id) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    uint64_t h = hash_bytes(key.data(), key.size());
    size_t i = size_t(h) & mask_;
    for (;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.id < 0) {
        s = Slot{uint32_t(h >> 32), id, uint32_t(pool_.size()), uint32_t(key.size())};
        pool_.append(key);
        ++count_;
        if (key.size() > max_key_size_) max_key_size_ = key.size();
        return;
      }
      if (s.hash == uint32_t(h >> 32) && key_of(s) == key) {
        s.id = id;
        return;
      }
    }
  }

  int32_t find(std::string_view key) const {
    if (count_ == 0) return -1;
    uint64_t h = hash_bytes(key.data(), key.size());
    for (size_t i = size_t(h) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (s.hash == uint32_t(h >> 32) && s.size == key.size() &&
          std::memcmp(pool_.data() + s.offset, key.data(), key.size()) == 0)
        return s.id;
    }
  }

  size_t size() const { return count_; }
  size_t max_key_size() const { return max_key_size_; }  // no key is longer (bytes)

 private:
  struct Slot {
    uint32_t hash = 0;  // high half of the 64-bit hash; the low half picks the slot
    int32_t id = -1;    // -1: empty
    uint32_t offset = 0, size = 0;
  };
  std::string_view key_of(const Slot& s) const { return std::string_view(pool_).substr(s.offset, s.size); }

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.id < 0) continue;
      uint64_t h = hash_bytes(pool_.data() + s.offset, s.size);
      size_t i = size_t(h) & mask_;
      while (slots_[i].id >= 0) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  std::string pool_;
  size_t mask_ = 0, count_ = 0, max_key_size_ = 0;
};

}  // namespace bert::text
