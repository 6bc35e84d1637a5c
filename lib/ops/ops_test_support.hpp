// Helpers the tests of lib/ops share: seeded random data, conversions, and the pieces of the varlen
// attention tests (where sequences sit, the reference context of one sequence, stray padding values).
#pragma once
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "ops/ops.hpp"
#include "ops/reference.hpp"

namespace bert::ops::test {

inline std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

inline std::vector<double> to_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }
inline std::vector<float> to_float(const std::vector<double>& v) { return {v.begin(), v.end()}; }

// Sequence b of `lengths` in rows b·T (padded) or right after the one before (packed).
inline std::vector<int> sequence_offsets(const std::vector<int>& lengths, int T, bool packed) {
  std::vector<int> offsets;
  int row = 0;
  for (int n : lengths) {
    offsets.push_back(row);
    row += packed ? n : T;
  }
  return offsets;
}

// The reference context of the sequence of n tokens in rows `row` .. of qkv, attended alone.
inline std::vector<float> reference_context(const std::vector<float>& qkv, size_t row, int n,
                                            const bert::ops::AttentionShape& s) {
  const size_t C = size_t(s.H) * s.D;
  std::vector<double> q(size_t(n) * 3 * C), want(size_t(n) * C), probs(size_t(s.H) * n * n), mask(size_t(n), 0.0);
  for (size_t i = 0; i < q.size(); ++i) q[i] = qkv[row * 3 * C + i];
  bert::ref::attention_forward(want.data(), probs.data(), q.data(), mask.data(), {1, n, s.H, s.D});
  return to_float(want);
}

// Nonzero values of ctx (rows of C) in rows that belong to no sequence.
inline size_t nonzero_padding(const std::vector<float>& ctx, size_t C, const std::vector<int>& lengths,
                              const std::vector<int>& offsets) {
  std::vector<bool> in_sequence(ctx.size() / C, false);
  for (size_t b = 0; b < lengths.size(); ++b) std::fill_n(in_sequence.begin() + offsets[b], lengths[b], true);
  size_t nonzero = 0;
  for (size_t i = 0; i < ctx.size(); ++i) nonzero += !in_sequence[i / C] && ctx[i] != 0.f;
  return nonzero;
}

}  // namespace bert::ops::test
