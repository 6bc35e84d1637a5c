// The int8 path's bfloat16 attention, on CPUs with AVX512-BF16 (skipped elsewhere: its own binary, so
// CTest reports the skip).
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "ops/ops.hpp"
#include "ops/ops_test_support.hpp"
#include "test_support.hpp"

using bert::ops::test::nonzero_padding;
using bert::ops::test::randn;
using bert::ops::test::reference_context;
using bert::ops::test::sequence_offsets;
using bert::test::max_abs_diff;

TEST_CASE("bf16 attention of the int8 path stays within bfloat16 precision of the f32 reference") {
  bert::test::skip_unless(bert::ops::has_native_bf16(), "this CPU (or BERTCTL_MAX_ISA) has no AVX512-BF16");
  const bert::ops::AttentionShape s{3, 9, 2, 16};
  const int C = s.H * s.D;
  const std::vector<int> lengths = {7, 7, 6};  // two equal lengths (run together), one alone (head-major)
  for (const bool packed : {false, true}) {
    const std::vector<int> offsets = sequence_offsets(lengths, s.T, packed);
    const int rows = packed ? offsets.back() + lengths.back() + 2 : s.B * s.T;
    auto qkv = randn(size_t(rows) * 3 * C, 50);
    std::vector<uint16_t> qkv_bf16(qkv.size());
    for (size_t i = 0; i < qkv.size(); ++i) {  // round to nearest even, as the int8 matmul's bf16 output does
      uint32_t u;
      std::memcpy(&u, &qkv[i], 4);
      u += 0x7fff + ((u >> 16) & 1);
      qkv_bf16[i] = uint16_t(u >> 16);
      u = uint32_t(qkv_bf16[i]) << 16;
      std::memcpy(&qkv[i], &u, 4);  // the reference sees the same rounded inputs
    }
    std::vector<float> ctx(size_t(rows) * C, 7.f);
    bert::ops::attention_forward_varlen_bf16(ctx.data(), qkv_bf16.data(), {lengths.data(), offsets.data(), rows}, s);
    for (int b = 0; b < s.B; ++b) {
      const int n = lengths[size_t(b)];
      const size_t row = size_t(offsets[size_t(b)]);
      std::vector<float> got(ctx.begin() + long(row * C), ctx.begin() + long((row + size_t(n)) * C));
      INFO((packed ? "packed" : "padded") << " sequence " << b);
      CHECK(max_abs_diff(got, reference_context(qkv, row, n, s), 2e-2, "bf16 attention") <= 2e-2);
    }
    CHECK(nonzero_padding(ctx, size_t(C), lengths, offsets) == 0);
  }
}
