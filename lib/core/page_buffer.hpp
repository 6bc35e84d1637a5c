// Large working buffers (activations, scratch, packed weights) in memory of their own, in 2 MB
// transparent huge pages where the kernel gives them (it does on request in its default "madvise"
// mode). Every op streams megabytes through these, and on 4 KB pages their TLB misses cost: measured
// in one process alternating two encoders, int8 8x128 171 against 181 ms (p90 192 against 219),
// f32 1x128 64 against 67-69 ms; real text 4% faster. Mapping huge pages the first time costs more
// (packing BERT-base's f32 weights ~250 ms more, once per process).
//
//   bert::PageBuffer buf(bytes);          // uninitialised; buf.data(), buf.size()
//   bert::PageBuffer weights(bytes, true);  // pages mapped now, in one call
#pragma once
#include <cstddef>  // size_t

namespace bert {

class PageBuffer {
 public:
  PageBuffer() = default;
  // Buffers of 2 MB or more start at a 2 MB boundary. `populate` maps every page now (one call,
  // instead of a page fault at each first write). Throws std::bad_alloc when out of memory.
  explicit PageBuffer(size_t bytes, bool populate = false);
  ~PageBuffer();
  PageBuffer(PageBuffer&& other) noexcept;
  PageBuffer& operator=(PageBuffer&& other) noexcept;
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;

  void* data() const { return data_; }
  size_t size() const { return size_; }
  template <class T>
  T* as() const {
    return static_cast<T*>(data_);
  }
  // Makes the buffer at least `bytes` long; its contents are lost when it grows.
  void reserve(size_t bytes) {
    if (bytes > size_) *this = PageBuffer(bytes);
  }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;     // usable bytes
  size_t mapped_ = 0;   // bytes mapped at data_
};

}  // namespace bert
