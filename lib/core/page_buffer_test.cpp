#include "core/page_buffer.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <utility>

TEST_CASE("a page buffer is zeroed, writable to its last byte, and large ones start on a 2 MB boundary") {
  for (size_t bytes : {size_t(1), size_t(100), size_t(3) << 20, (size_t(4) << 20) + 1}) {
    bert::PageBuffer buf(bytes, bytes > 100);
    INFO("bytes = " << bytes);
    REQUIRE(buf.data() != nullptr);
    CHECK(buf.size() == bytes);
    const auto* p = buf.as<unsigned char>();
    CHECK(p[0] == 0);
    CHECK(p[bytes - 1] == 0);
    std::memset(buf.data(), 0xab, bytes);
    CHECK(p[bytes - 1] == 0xab);
    if (bytes >= (size_t(2) << 20)) CHECK(reinterpret_cast<uintptr_t>(buf.data()) % (size_t(2) << 20) == 0);
  }
}

TEST_CASE("a page buffer grows on reserve, keeps its memory when big enough, and moves") {
  bert::PageBuffer buf;
  CHECK(buf.data() == nullptr);
  buf.reserve(1000);
  void* first = buf.data();
  REQUIRE(first != nullptr);
  buf.reserve(500);
  CHECK(buf.data() == first);
  CHECK(buf.size() == 1000);
  buf.reserve(size_t(5) << 20);
  CHECK(buf.size() == size_t(5) << 20);
  bert::PageBuffer moved = std::move(buf);
  CHECK(buf.data() == nullptr);
  CHECK(buf.size() == 0);
  CHECK(moved.size() == size_t(5) << 20);
  buf = std::move(moved);
  CHECK(buf.size() == size_t(5) << 20);
  CHECK(moved.data() == nullptr);
}
