// The int8 path: quantization, and u8·s8 linear layers against the same arithmetic in double, on
// whichever scheme this CPU (under BERTCTL_MAX_ISA) runs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/cpu.hpp"
#include "ops/ops.hpp"
#include "ops/ops_test_support.hpp"
#include "ops/quantize.hpp"
#include "ops/reference.hpp"
#include "test_support.hpp"

using bert::ops::Activation;
using bert::ops::test::randn;
using bert::ops::test::to_float;
using bert::test::max_abs_diff;

TEST_CASE("int8 activations take 8 bits where the CPU has VNNI, 7 where pairs of products would saturate") {
  const bert::ops::CpuFeatures& use = bert::ops::cpu().use;
  CHECK(bert::ops::int8_activation_top() == (use.avx512_vnni || use.amx ? 255 : 127));
}

TEST_CASE("int8 linear: u8 activations × s8 weights equal the dequantized product, post-ops included") {
  const int M = 37, K = 96, N = 80;
  auto x = randn(size_t(M) * K, 40, 1.5f), w = randn(size_t(N) * K, 41, 0.2f), b = randn(N, 42), res = randn(size_t(M) * N, 43);
  for (auto& v : x) v += 0.7f;  // not centred, so the zero point matters
  std::vector<int8_t> wq(w.size());
  std::vector<float> ws(N);
  bert::ops::quantize_s8_rows(wq.data(), ws.data(), w.data(), N, K);
  std::vector<uint8_t> xq(x.size());
  // Quantized as the op quantizes: 8 bits with VNNI, 7 where 8-bit products would saturate.
  const bert::ops::QuantParams p = bert::ops::quantize_u8(xq.data(), x.data(), x.size(), bert::ops::int8_activation_top());
  CHECK(p.zero_point > 0);
  for (Activation act : {Activation::ACT_NONE, Activation::ACT_GELU_ERF}) {
    for (bool residual : {false, true}) {
      bert::ops::PackedWeights pack;
      bert::ops::LinearWeights lw{nullptr, b.data(), K, N, &pack, wq.data(), ws.data()};
      std::vector<float> y(size_t(M) * N), first;
      // The first calls run the shared primitive on the weights in place, then the layer's own;
      // after 2,048 rows the weights are packed (shared, then own primitive again): the same numbers.
      double worst = 0;
      for (int call = 0; call < 2048 / M + 4; ++call) {
        bert::ops::linear_forward(y.data(), x.data(), lw, M, act, residual ? res.data() : nullptr);
        if (call == 0) first = y;
        worst = std::max(worst, max_abs_diff(y, first, 1e-5, "in place/packed, shared/own primitive"));
      }
      CHECK(worst <= 1e-5);
      // The same arithmetic on the dequantized values, in double.
      std::vector<double> want(y.size()), exact(y.size());
      for (int m = 0; m < M; ++m)
        for (int n = 0; n < N; ++n) {
          double acc = b[size_t(n)], ref = b[size_t(n)];
          for (int k = 0; k < K; ++k) {
            const size_t i = size_t(m) * K + k, j = size_t(n) * K + k;
            acc += (double(xq[i]) - p.zero_point) * p.scale * double(ws[size_t(n)]) * wq[j];
            ref += double(x[i]) * w[j];
          }
          if (residual) acc += res[size_t(m) * N + n], ref += res[size_t(m) * N + n];
          want[size_t(m) * N + n] = bert::ref::activation(acc, act);
          exact[size_t(m) * N + n] = bert::ref::activation(ref, act);
        }
      INFO("act=" << int(act) << " residual=" << residual);
      CHECK(max_abs_diff(y, to_float(want), 2e-4, "int8 vs dequantized") <= 2e-4);
      // And close to the float product: 8-bit inputs and weights leave an error of about 1% RMS.
      double err = 0, norm = 0;
      for (size_t i = 0; i < y.size(); ++i) err += (y[i] - exact[i]) * (y[i] - exact[i]), norm += exact[i] * exact[i];
      CHECK(std::sqrt(err / norm) < 0.02);
    }
  }
}

// Without VNNI oneDNN adds pairs of u8·s8 products in saturating 16 bits: inputs at the top of the
// range against weights of ±127 are the worst case (2·255·127 would overflow). Every row count runs
// a kernel of its own (gemv at 1 row, small and large blocks), in place and packed.
TEST_CASE("int8 linear: the largest inputs against the largest weights do not saturate") {
  const int K = 256, N = 48;
  std::vector<float> w(size_t(N) * K);
  for (size_t i = 0; i < w.size(); ++i) w[i] = (i / 3) % 2 ? -1.f : 1.f;  // ±127 after quantization
  std::vector<int8_t> wq(w.size());
  std::vector<float> ws(N);
  bert::ops::quantize_s8_rows(wq.data(), ws.data(), w.data(), N, K);
  for (const int M : {1, 7, 64, 300}) {
    std::vector<float> x(size_t(M) * K);
    for (size_t i = 0; i < x.size(); ++i) x[i] = i % 5 ? 1.f : -0.01f;  // most at the top code
    bert::ops::PackedWeights pack;
    bert::ops::LinearWeights lw{nullptr, nullptr, K, N, &pack, wq.data(), ws.data()};
    std::vector<float> y(size_t(M) * N);
    for (int call = 0; call < 2048 / M + 4; ++call) {
      bert::ops::linear_forward(y.data(), x.data(), lw, M);
      double worst = 0;
      for (int m = 0; m < M; ++m)
        for (int n = 0; n < N; ++n) {
          double exact = 0;
          for (int k = 0; k < K; ++k) exact += double(x[size_t(m) * K + k]) * w[size_t(n) * K + k];
          worst = std::max(worst, std::abs(y[size_t(m) * N + n] - exact));
        }
      INFO("M = " << M << ", call " << call);
      REQUIRE(worst < 0.05);  // each saturated pair is off by about 1
    }
  }
}

TEST_CASE("quantize_u8 keeps 0 exact and maps the range onto 0..255, or 0..127") {
  std::vector<float> x = {-1.f, 0.f, 0.5f, 3.f};
  std::vector<uint8_t> q(4);
  const auto p = bert::ops::quantize_u8(q.data(), x.data(), 4);
  CHECK(q[0] == 0);
  CHECK(q[3] == 255);
  CHECK(q[1] == p.zero_point);
  CHECK(std::abs(p.scale - 4.f / 255) < 1e-7);
  std::vector<float> zeros(5, 0.f);
  std::vector<uint8_t> qz(5);
  const auto pz = bert::ops::quantize_u8(qz.data(), zeros.data(), 5);
  CHECK(pz.scale > 0);
  CHECK(qz[0] == pz.zero_point);
  const auto p7 = bert::ops::quantize_u8(q.data(), x.data(), 4, 127);
  CHECK(q[0] == 0);
  CHECK(q[3] == 127);
  CHECK(q[1] == p7.zero_point);
  CHECK(std::abs(p7.scale - 4.f / 127) < 1e-7);
}

TEST_CASE("quantize_u8 gives every element the scalar rounding, whatever the length") {
  // Lengths that exercise the 64/32-wide packs, the 16-wide loop and the scalar tail, one and two threads.
  for (const int top : {255, 127})
    for (size_t n : {size_t(1), size_t(17), size_t(64), size_t(100), size_t(1000), size_t(70001)}) {
      auto x = randn(n, 60 + unsigned(n));
      if (n > 10) x[3] = 0.5f, x[7] = -0.25f;  // values that land on .5 steps for some scales
      std::vector<uint8_t> q(n);
      const auto p = bert::ops::quantize_u8(q.data(), x.data(), n, top);
      const float inv = 1.f / p.scale;
      size_t wrong = 0;
      for (size_t i = 0; i < n; ++i) {
        const float want = std::clamp(std::nearbyint(std::fma(x[i], inv, float(p.zero_point))), 0.f, float(top));
        wrong += q[i] != uint8_t(want);
      }
      INFO("n = " << n << ", top = " << top);
      CHECK(wrong == 0);
    }
}
