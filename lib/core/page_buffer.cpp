#include "core/page_buffer.hpp"

#include <sys/mman.h>

#include <algorithm>  // std::max
#include <cstdint>
#include <new>  // std::bad_alloc
#include <utility>

namespace bert {

namespace {

constexpr size_t kHugePage = size_t(2) << 20;

#ifndef MADV_POPULATE_WRITE
constexpr int MADV_POPULATE_WRITE = 23;  // Linux 5.14; without it the pages fault in as usual
#endif

void* map_anonymous(size_t bytes) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return p;
}

}  // namespace

PageBuffer::PageBuffer(size_t bytes, bool populate) : size_(bytes) {
  const size_t length = std::max<size_t>(bytes, 1);
  if (length < kHugePage) {
    data_ = map_anonymous(length);
    mapped_ = length;
  } else {
    // Map a huge page more than needed, then give back the parts before the first 2 MB boundary
    // and after the last huge page.
    mapped_ = (length + kHugePage - 1) / kHugePage * kHugePage;
    char* raw = static_cast<char*>(map_anonymous(mapped_ + kHugePage));
    char* aligned = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(raw) + kHugePage - 1) & ~(kHugePage - 1));
    if (aligned > raw) ::munmap(raw, size_t(aligned - raw));
    if (char* end = raw + mapped_ + kHugePage; end > aligned + mapped_) ::munmap(aligned + mapped_, size_t(end - aligned - mapped_));
    ::madvise(aligned, mapped_, MADV_HUGEPAGE);
    data_ = aligned;
  }
  if (populate) ::madvise(data_, mapped_, MADV_POPULATE_WRITE);
}

PageBuffer::~PageBuffer() {
  if (data_) ::munmap(data_, mapped_);
}

PageBuffer::PageBuffer(PageBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      mapped_(std::exchange(other.mapped_, 0)) {}

PageBuffer& PageBuffer::operator=(PageBuffer&& other) noexcept {
  if (this != &other) {
    if (data_) ::munmap(data_, mapped_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapped_ = std::exchange(other.mapped_, 0);
  }
  return *this;
}

}  // namespace bert
