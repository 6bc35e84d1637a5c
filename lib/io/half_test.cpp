// f16 / bf16 conversions: exact widening, round-to-nearest-even narrowing, subnormals, inf, nan.
// GCC's _Float16 (software conversions in libgcc) serves as an independent reference for f16.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "core/error.hpp"  // bert::Error
#include "io/half.hpp"
#include "io/tensor_archive.hpp"

using namespace bert::io;

static uint32_t bits(float f) {
  return std::bit_cast<uint32_t>(f);
}
static float from_bits(uint32_t u) {
  return std::bit_cast<float>(u);
}

TEST_CASE("f16: known values") {
  CHECK(f32_to_f16(0.0f) == 0x0000);
  CHECK(f32_to_f16(-0.0f) == 0x8000);
  CHECK(f32_to_f16(1.0f) == 0x3c00);
  CHECK(f32_to_f16(-2.0f) == 0xc000);
  CHECK(f32_to_f16(0.1f) == 0x2e66);
  CHECK(f32_to_f16(65504.0f) == 0x7bff);    // largest finite
  CHECK(f32_to_f16(65519.996f) == 0x7bff);  // just below the halfway point
  CHECK(f32_to_f16(65520.0f) == 0x7c00);    // halfway: ties to even = infinity
  CHECK(f32_to_f16(1e10f) == 0x7c00);
  CHECK(f32_to_f16(-INFINITY) == 0xfc00);
  CHECK(f32_to_f16(std::ldexp(1.0f, -14)) == 0x0400);         // smallest normal
  CHECK(f32_to_f16(std::ldexp(1.0f, -24)) == 0x0001);         // smallest subnormal
  CHECK(f32_to_f16(std::ldexp(1.0f, -25)) == 0x0000);         // half of it: ties to even = 0
  CHECK(f32_to_f16(std::ldexp(1.5f, -25)) == 0x0001);         // above half: rounds up
  CHECK(f32_to_f16(std::ldexp(3.0f, -25)) == 0x0002);         // 1.5 units: ties to even = 2
  CHECK(f32_to_f16(std::ldexp(5.0f, -25)) == 0x0002);         // 2.5 units: ties to even = 2
  CHECK(f32_to_f16(std::ldexp(1023.0f, -24)) == 0x03ff);      // largest subnormal
  CHECK(f32_to_f16(std::ldexp(2047.0f, -25)) == 0x0400);      // rounds up into the normals
  CHECK(f32_to_f16(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);  // tie between 1 and next: even
  CHECK(f32_to_f16(1.0f + std::ldexp(3.0f, -11)) == 0x3c02);  // tie: up to even
  CHECK(f32_to_f16(std::numeric_limits<float>::denorm_min()) == 0x0000);
  CHECK(f32_to_f16(-std::numeric_limits<float>::denorm_min()) == 0x8000);

  CHECK(f16_to_f32(0x0001) == std::ldexp(1.0f, -24));
  CHECK(f16_to_f32(0x03ff) == std::ldexp(1023.0f, -24));
  CHECK(f16_to_f32(0x8000) == 0.0f);
  CHECK(std::signbit(f16_to_f32(0x8000)));
  CHECK(f16_to_f32(0x7bff) == 65504.0f);
  CHECK(f16_to_f32(0x7c00) == INFINITY);
  CHECK(f16_to_f32(0xfc00) == -INFINITY);
}

TEST_CASE("f16: nan stays nan, quiet, with its sign") {
  uint16_t h = f32_to_f16(std::numeric_limits<float>::quiet_NaN());
  CHECK((h & 0x7c00) == 0x7c00);
  CHECK((h & 0x03ff) != 0);
  uint16_t s = f32_to_f16(from_bits(0xff800001));  // negative signalling nan, payload in low bits
  CHECK((s & 0x8000) != 0);
  CHECK((s & 0x7c00) == 0x7c00);
  CHECK((s & 0x03ff) != 0);  // still a nan, not infinity
  CHECK(std::isnan(f16_to_f32(0x7e00)));
  CHECK(std::isnan(f16_to_f32(0xfc01)));
}

TEST_CASE("f16: every half widens exactly and narrows back to itself") {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float f = f16_to_f32(uint16_t(h));
    if (std::isnan(f)) {
      REQUIRE(std::isnan(float(_Float16(f))));
      continue;
    }
    REQUIRE_MESSAGE(f == float(std::bit_cast<_Float16>(uint16_t(h))), "half 0x" << std::hex << h);
    REQUIRE_MESSAGE(f32_to_f16(f) == h, "half 0x" << std::hex << h);
  }
}

static bool same_as_compiler(float f) {
  uint16_t want = std::bit_cast<uint16_t>(_Float16(f));
  uint16_t got = f32_to_f16(f);
  if (std::isnan(f)) return std::isnan(f16_to_f32(got));
  return got == want;
}

TEST_CASE("f16: narrowing matches the compiler's _Float16 at every rounding boundary") {
  // For each pair of neighbouring halves, the float midpoint (a tie) and the floats just around it.
  for (uint32_t h = 0; h < 0x7c00; ++h) {
    double a = f16_to_f32(uint16_t(h));
    double b = h + 1 == 0x7c00 ? 65536.0 : f16_to_f32(uint16_t(h + 1));
    float mid = float((a + b) / 2);  // exact: one bit more than a half holds
    for (float f : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, INFINITY), float(a)})
      for (float s : {f, -f}) REQUIRE_MESSAGE(same_as_compiler(s), "float bits 0x" << std::hex << bits(s));
  }
}

TEST_CASE("f16: narrowing matches the compiler's _Float16 on random floats") {
  std::mt19937 rng(12345);
  for (int i = 0; i < 2'000'000; ++i) {
    float f = from_bits(uint32_t(rng()));
    REQUIRE_MESSAGE(same_as_compiler(f), "float bits 0x" << std::hex << bits(f));
  }
  // Concentrated where halves live (|x| in [2^-26, 2^17]).
  std::uniform_int_distribution<uint32_t> near(0x32800000u, 0x48000000u);
  for (int i = 0; i < 2'000'000; ++i) {
    float f = from_bits(near(rng) | (i & 1u) << 31);
    REQUIRE_MESSAGE(same_as_compiler(f), "float bits 0x" << std::hex << bits(f));
  }
}

TEST_CASE("bf16: rounding, overflow, nan") {
  CHECK(f32_to_bf16(1.0f) == 0x3f80);
  CHECK(f32_to_bf16(-2.0f) == 0xc000);
  CHECK(f32_to_bf16(from_bits(0x3f808000)) == 0x3f80);              // tie: stays even
  CHECK(f32_to_bf16(from_bits(0x3f818000)) == 0x3f82);              // tie: up to even
  CHECK(f32_to_bf16(from_bits(0x3f808001)) == 0x3f81);              // above the tie
  CHECK(f32_to_bf16(from_bits(0x3f807fff)) == 0x3f80);              // below the tie
  CHECK(f32_to_bf16(std::numeric_limits<float>::max()) == 0x7f80);  // rounds up to infinity
  CHECK(f32_to_bf16(from_bits(0x7f7f7fff)) == 0x7f7f);              // stays finite
  CHECK(f32_to_bf16(INFINITY) == 0x7f80);
  CHECK(f32_to_bf16(-INFINITY) == 0xff80);
  CHECK(f32_to_bf16(-0.0f) == 0x8000);
  CHECK(f32_to_bf16(from_bits(0x00018000)) == 0x0002);  // subnormal, tie to even
  CHECK(f32_to_bf16(from_bits(0x00008000)) == 0x0000);  // subnormal, tie to even (zero)
  uint16_t n = f32_to_bf16(from_bits(0x7f800001));      // signalling nan with only low payload bits
  CHECK((n & 0x7f80) == 0x7f80);
  CHECK((n & 0x007f) != 0);  // still nan (truncation alone would make it infinity)
  CHECK((f32_to_bf16(from_bits(0xffc00000)) & 0x8000) != 0);
  for (uint32_t b = 0; b < 0x10000; ++b) {
    float f = bf16_to_f32(uint16_t(b));
    CHECK(bits(f) == b << 16);
    if (!std::isnan(f)) REQUIRE(f32_to_bf16(f) == b);
  }
}

TEST_CASE("to_f32 / from_f32 on tensors") {
  std::vector<float> values = {1.0f, -2.5f, 0.1f, 65504.0f, std::ldexp(1.0f, -24)};
  for (DType dt : {DType::DTYPE_F32, DType::DTYPE_F16, DType::DTYPE_BF16}) {
    std::vector<unsigned char> buf(values.size() * dtype_size(dt));
    from_f32(values, dt, buf.data());
    TensorData t{"t", dt, {int64_t(values.size())}, buf.data(), buf.size()};
    std::vector<float> back = to_f32(t);
    REQUIRE(back.size() == values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      float want = dt == DType::DTYPE_F32   ? values[i]
                   : dt == DType::DTYPE_F16 ? f16_to_f32(f32_to_f16(values[i]))
                                            : bf16_to_f32(f32_to_bf16(values[i]));
      CHECK(back[i] == want);
    }
  }
  int64_t ids[2] = {1, 2};
  TensorData ints{"bert.embeddings.position_ids", DType::DTYPE_I64, {2}, ids, sizeof ids};
  try {
    to_f32(ints);
    FAIL("to_f32 accepted an I64 tensor");
  } catch (const bert::Error& e) {
    CHECK(std::string(e.what()).find("'bert.embeddings.position_ids' has dtype I64") != std::string::npos);
  }
}
