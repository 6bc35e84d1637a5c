// Inference attention over sequences of their own lengths (padded or packed), against the reference
// of each sequence attended alone.
#include <doctest/doctest.h>

#include <vector>

#include "ops/ops.hpp"
#include "ops/ops_test_support.hpp"
#include "test_support.hpp"

using bert::ops::test::nonzero_padding;
using bert::ops::test::randn;
using bert::ops::test::reference_context;
using bert::ops::test::sequence_offsets;
using bert::test::max_abs_diff;

TEST_CASE("varlen attention equals the reference of each sequence alone, in pieces over the threads") {
  // 5 heads over 2 threads (uneven head groups), runs of equal lengths, padding, an empty sequence,
  // short sequences alone in their run (copied head-major), and a long sequence whose scores split
  // into one-head pieces; every one with sequences padded to T and packed one after another (a run's
  // stride then its length, not T).
  for (const bert::ops::AttentionShape s : {bert::ops::AttentionShape{6, 11, 5, 8}, bert::ops::AttentionShape{2, 420, 3, 4}})
    for (const bool packed : {false, true}) {
      const int C = s.H * s.D;
      const std::vector<int> lengths = s.B == 6 ? std::vector<int>{9, 9, 9, 7, 0, 3} : std::vector<int>{420, 419};
      const std::vector<int> offsets = sequence_offsets(lengths, s.T, packed);
      const int rows = packed ? offsets.back() + lengths.back() + 5 : s.B * s.T;
      const auto qkv = randn(size_t(rows) * 3 * C, 70 + unsigned(s.T));
      std::vector<float> ctx(size_t(rows) * C, 7.f);
      bert::ops::attention_forward_varlen(ctx.data(), qkv.data(), {lengths.data(), offsets.data(), rows}, s);
      for (int b = 0; b < s.B; ++b) {
        const int n = lengths[size_t(b)];
        const size_t row = size_t(offsets[size_t(b)]);
        INFO("T " << s.T << (packed ? " packed" : " padded") << " sequence " << b);
        if (n == 0) continue;
        std::vector<float> got(ctx.begin() + long(row * C), ctx.begin() + long((row + size_t(n)) * C));
        CHECK(max_abs_diff(got, reference_context(qkv, row, n, s), 1e-5, "varlen attention") <= 1e-5);
      }
      CHECK(nonzero_padding(ctx, size_t(C), lengths, offsets) == 0);
    }
}
