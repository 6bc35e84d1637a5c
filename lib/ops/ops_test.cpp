// Every op against its naive double-precision reference (forward and backward), and every reference
// backward against central differences of its forward.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <tuple>
#include <vector>

#include "ops/ops.hpp"
#include "ops/ops_test_support.hpp"
#include "ops/reference.hpp"
#include "test_support.hpp"

using bert::ops::Activation;
using bert::ops::test::randn;
using bert::ops::test::to_double;
using bert::ops::test::to_float;
using bert::test::max_abs_diff;

namespace {

// Checks d(Σ r·f(x))/dx computed by `analytic` against central differences of `f`, in double.
void check_gradient(std::vector<double>& x, size_t out_size, const std::function<void(std::vector<double>&)>& f,
                    const std::vector<double>& analytic, const std::vector<double>& r, const char* what) {
  const double h = 1e-6;
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double keep = x[i];
    std::vector<double> yp(out_size), ym(out_size);
    x[i] = keep + h;
    f(yp);
    x[i] = keep - h;
    f(ym);
    x[i] = keep;
    double num = 0;
    for (size_t j = 0; j < out_size; ++j) num += r[j] * (yp[j] - ym[j]) / (2 * h);
    worst = std::max(worst, std::abs(num - analytic[i]) / std::max(1.0, std::abs(num)));
  }
  INFO(what);
  CHECK(worst < 1e-6);
}

const Activation kActivations[] = {Activation::ACT_NONE, Activation::ACT_GELU_ERF, Activation::ACT_GELU_TANH,
                                   Activation::ACT_RELU, Activation::ACT_TANH};

}  // namespace

// Frozen weights are read in place for their first rows, then packed (and below AVX-512 run as a 1x1
// convolution): every call until then and the first one after must agree with the reference. So must
// training's weights at 600 rows (below AVX-512: reordered for the convolution at every call).
TEST_CASE("linear_forward matches the reference for every activation, residual and packing") {
  for (const auto& [M, K, N] : {std::tuple{13, 37, 29}, std::tuple{40, 64, 96}, std::tuple{600, 24, 40}}) {
    auto x = randn(size_t(M) * K, 1), w = randn(size_t(N) * K, 2, 0.3f), b = randn(N, 3), res = randn(size_t(M) * N, 4);
    auto xd = to_double(x), wd = to_double(w), bd = to_double(b), rd = to_double(res);
    for (Activation act : kActivations)
      for (bool residual : {false, true}) {
        std::vector<double> want(size_t(M) * N);
        bert::ref::linear_forward(want.data(), xd.data(), wd.data(), bd.data(), M, K, N, act,
                                  residual ? rd.data() : nullptr);
        for (bool frozen : {false, true}) {
          bert::ops::PackedWeights pack;
          double worst = 0;
          for (int call = 0; call < (frozen ? bert::ops::calls_until_steady(M) : 1); ++call) {
            std::vector<float> y(size_t(M) * N);
            bert::ops::linear_forward(y.data(), x.data(), {w.data(), b.data(), K, N, frozen ? &pack : nullptr}, M, act,
                                      residual ? res.data() : nullptr);
            worst = std::max(worst, max_abs_diff(y, to_float(want), 1e-5, "linear"));
          }
          INFO("M=" << M << " K=" << K << " N=" << N << " act=" << int(act) << " residual=" << residual
                    << " frozen=" << frozen);
          CHECK(worst <= 1e-5);
        }
      }
  }
}

TEST_CASE("linear_forward without bias, at a BERT-like shape") {
  const int M = 64, K = 128, N = 384;
  auto x = randn(size_t(M) * K, 5), w = randn(size_t(N) * K, 6, 0.1f);
  std::vector<float> y(size_t(M) * N);
  bert::ops::PackedWeights pack;
  bert::ops::linear_forward(y.data(), x.data(), {w.data(), nullptr, K, N, &pack}, M);
  std::vector<double> want(y.size());
  auto xd = to_double(x), wd = to_double(w);
  bert::ref::linear_forward<double>(want.data(), xd.data(), wd.data(), nullptr, M, K, N);
  CHECK(max_abs_diff(y, to_float(want), 1e-5, "linear") <= 1e-5);
}

// At 600 rows dx runs as a convolution below AVX-512 (see linear_backward), and db splits its columns.
TEST_CASE("linear_backward accumulates dx, dW, db like the reference") {
  for (const auto& [M, K, N] : {std::tuple{11, 23, 17}, std::tuple{600, 24, 70}}) {
    auto x = randn(size_t(M) * K, 7), w = randn(size_t(N) * K, 8, 0.3f), dy = randn(size_t(M) * N, 9);
    auto dx = randn(x.size(), 10), dw = randn(w.size(), 11), db = randn(N, 12);  // prior contents
    auto dxd = to_double(dx), dwd = to_double(dw), dbd = to_double(db);
    bert::ops::linear_backward(dx.data(), dw.data(), db.data(), dy.data(), x.data(), {w.data(), nullptr, K, N}, M);
    auto xd = to_double(x), wd = to_double(w), dyd = to_double(dy);
    bert::ref::linear_backward(dxd.data(), dwd.data(), dbd.data(), dyd.data(), xd.data(), wd.data(), M, K, N);
    // dW and db sum M products in float: their rounding grows with the sums (about √M), so 1e-6 of
    // the largest value, and never less than 1e-5.
    auto tol = [](const std::vector<double>& want) {
      double top = 0;
      for (double v : want) top = std::max(top, std::abs(v));
      return std::max(1e-5, 1e-6 * top);
    };
    INFO("M=" << M);
    CHECK(max_abs_diff(dx, to_float(dxd), tol(dxd), "dx") <= tol(dxd));
    CHECK(max_abs_diff(dw, to_float(dwd), tol(dwd), "dw") <= tol(dwd));
    CHECK(max_abs_diff(db, to_float(dbd), tol(dbd), "db") <= tol(dbd));
  }
}

TEST_CASE("layernorm forward and backward match the reference") {
  const int M = 9, C = 48;
  auto x = randn(size_t(M) * C, 13, 2.f), g = randn(C, 14), b = randn(C, 15), dy = randn(size_t(M) * C, 16);
  for (auto& v : x) v += 3.f;  // a mean far from 0, as in real hidden states
  std::vector<float> y(x.size()), mean(M), var(M);
  const float eps = 1e-12f;
  bert::ops::layernorm_forward(y.data(), mean.data(), var.data(), x.data(), g.data(), b.data(), M, C, eps);
  std::vector<float> y_inf(x.size());
  bert::ops::layernorm_forward(y_inf.data(), nullptr, nullptr, x.data(), g.data(), b.data(), M, C, eps);
  auto xd = to_double(x), gd = to_double(g), bd = to_double(b), dyd = to_double(dy);
  std::vector<double> want(x.size()), md(M), rd(M);
  bert::ref::layernorm_forward(want.data(), md.data(), rd.data(), xd.data(), gd.data(), bd.data(), M, C, 1e-12);
  CHECK(max_abs_diff(y, to_float(want), 2e-5, "ln y") <= 2e-5);
  CHECK(max_abs_diff(y_inf, to_float(want), 2e-5, "ln y inference") <= 2e-5);

  std::vector<float> dx(x.size(), 0.5f), dg(C, 0.25f), db(C, -1.f);
  std::vector<double> dxd(x.size(), 0.5), dgd(C, 0.25), dbd(C, -1.0);
  bert::ops::layernorm_backward(dx.data(), dg.data(), db.data(), dy.data(), x.data(), mean.data(), var.data(),
                                g.data(), M, C, eps);
  bert::ref::layernorm_backward(dxd.data(), dgd.data(), dbd.data(), dyd.data(), xd.data(), md.data(), rd.data(),
                                gd.data(), M, C);
  CHECK(max_abs_diff(dx, to_float(dxd), 1e-4, "ln dx") <= 1e-4);
  CHECK(max_abs_diff(dg, to_float(dgd), 1e-4, "ln dgamma") <= 1e-4);
  CHECK(max_abs_diff(db, to_float(dbd), 1e-5, "ln dbeta") <= 1e-5);
}

TEST_CASE("activations forward and backward match the reference") {
  auto x = randn(1000, 17, 3.f), dy = randn(1000, 18);
  for (Activation act : kActivations) {
    std::vector<float> y(x.size()), dx(x.size(), 1.f);
    bert::ops::activation_forward(y.data(), x.data(), x.size(), act);
    bert::ops::activation_backward(dx.data(), dy.data(), x.data(), x.size(), act);
    std::vector<float> want_y(x.size()), want_dx(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      want_y[i] = float(bert::ref::activation(double(x[i]), act));
      want_dx[i] = float(1.0 + dy[i] * bert::ref::activation_derivative(double(x[i]), act));
    }
    INFO("act=" << int(act));
    CHECK(max_abs_diff(y, want_y, 1e-5, "act y") <= 1e-5);
    CHECK(max_abs_diff(dx, want_dx, 1e-5, "act dx") <= 1e-5);
  }
}

TEST_CASE("softmax forward and backward match the reference") {
  const int R = 7, Cn = 31;
  auto x = randn(size_t(R) * Cn, 19, 4.f), dy = randn(size_t(R) * Cn, 20);
  std::vector<float> y(x.size()), dx(x.size(), 0.f);
  bert::ops::softmax_forward(y.data(), x.data(), R, Cn);
  bert::ops::softmax_backward(dx.data(), dy.data(), y.data(), R, Cn);
  auto xd = to_double(x), dyd = to_double(dy);
  std::vector<double> yd(x.size()), dxd(x.size(), 0.0);
  bert::ref::softmax_forward(yd.data(), xd.data(), R, Cn);
  bert::ref::softmax_backward(dxd.data(), dyd.data(), yd.data(), R, Cn);
  CHECK(max_abs_diff(y, to_float(yd), 1e-6, "softmax") <= 1e-6);
  CHECK(max_abs_diff(dx, to_float(dxd), 1e-6, "softmax dx") <= 1e-6);
}

TEST_CASE("attention forward and backward match the reference, with padding mask and dropout") {
  const bert::ops::AttentionShape s{3, 7, 2, 8};
  const int C = s.H * s.D;
  auto qkv = randn(size_t(s.B) * s.T * 3 * C, 21), dctx = randn(size_t(s.B) * s.T * C, 22);
  std::vector<float> mask(size_t(s.B) * s.T, 0.f);
  for (int t = 5; t < s.T; ++t) mask[size_t(1) * s.T + t] = -3.4028235e38f;  // text 1 has 2 padding tokens
  std::vector<float> drop(size_t(s.B) * s.H * s.T * s.T);
  std::mt19937 rng(23);
  for (auto& d : drop) d = (rng() % 10 == 0) ? 0.f : 1.f / 0.9f;
  for (bool use_dropout : {false, true}) {
    const float* dm = use_dropout ? drop.data() : nullptr;
    std::vector<float> ctx(size_t(s.B) * s.T * C), probs(drop.size()), scratch(drop.size());
    bert::ops::attention_forward(ctx.data(), probs.data(), qkv.data(), mask.data(), s, dm);
    std::vector<float> dqkv(qkv.size(), 0.f);
    bert::ops::attention_backward(dqkv.data(), scratch.data(), dctx.data(), probs.data(), qkv.data(), s, dm);

    auto qd = to_double(qkv), md = to_double(mask), dd = to_double(drop), dcd = to_double(dctx);
    std::vector<double> ctxd(ctx.size()), pd(probs.size()), dqd(qkv.size(), 0.0);
    const double* dmd = use_dropout ? dd.data() : nullptr;
    bert::ref::attention_forward(ctxd.data(), pd.data(), qd.data(), md.data(), s, dmd);
    bert::ref::attention_backward(dqd.data(), dcd.data(), pd.data(), qd.data(), s, dmd);
    INFO("dropout=" << use_dropout);
    CHECK(max_abs_diff(probs, to_float(pd), 1e-6, "probs") <= 1e-6);
    CHECK(max_abs_diff(ctx, to_float(ctxd), 1e-5, "ctx") <= 1e-5);
    CHECK(max_abs_diff(dqkv, to_float(dqd), 1e-5, "dqkv") <= 1e-5);
    // Padded keys get no attention at all.
    for (int h = 0; h < s.H; ++h)
      for (int i = 0; i < s.T; ++i) CHECK(probs[((size_t(1) * s.H + h) * s.T + i) * s.T + 6] == 0.f);
  }
}

TEST_CASE("reference backward passes agree with central differences") {
  SUBCASE("linear") {
    const int M = 3, K = 4, N = 5;
    auto x = to_double(randn(M * K, 30)), w = to_double(randn(N * K, 31)), b = to_double(randn(N, 32));
    auto r = to_double(randn(M * N, 33));
    for (Activation act : kActivations) {
      if (act == Activation::ACT_RELU) continue;  // not differentiable at the kink; checked above
      // y = act(xWᵀ+b): backprop through the activation, then the linear map.
      auto f = [&](std::vector<double>& y) {
        bert::ref::linear_forward(y.data(), x.data(), w.data(), b.data(), M, K, N, act);
      };
      std::vector<double> pre(M * N), dpre(M * N), dx(M * K, 0.0), dw(N * K, 0.0);
      bert::ref::linear_forward(pre.data(), x.data(), w.data(), b.data(), M, K, N);
      for (int i = 0; i < M * N; ++i) dpre[i] = r[i] * bert::ref::activation_derivative(pre[i], act);
      bert::ref::linear_backward<double>(dx.data(), dw.data(), nullptr, dpre.data(), x.data(), w.data(), M, K, N);
      check_gradient(x, M * N, f, dx, r, "linear dx");
      check_gradient(w, M * N, f, dw, r, "linear dw");
    }
  }
  SUBCASE("layernorm") {
    const int M = 3, C = 6;
    auto x = to_double(randn(M * C, 34)), g = to_double(randn(C, 35)), b = to_double(randn(C, 36));
    auto r = to_double(randn(M * C, 37));
    auto f = [&](std::vector<double>& y) {
      bert::ref::layernorm_forward<double>(y.data(), nullptr, nullptr, x.data(), g.data(), b.data(), M, C, 1e-5);
    };
    std::vector<double> y(M * C), mean(M), rstd(M), dx(M * C, 0.0), dg(C, 0.0), db(C, 0.0);
    bert::ref::layernorm_forward(y.data(), mean.data(), rstd.data(), x.data(), g.data(), b.data(), M, C, 1e-5);
    bert::ref::layernorm_backward(dx.data(), dg.data(), db.data(), r.data(), x.data(), mean.data(), rstd.data(),
                                  g.data(), M, C);
    check_gradient(x, M * C, f, dx, r, "layernorm dx");
    check_gradient(g, M * C, f, dg, r, "layernorm dgamma");
    check_gradient(b, M * C, f, db, r, "layernorm dbeta");
  }
  SUBCASE("attention") {
    const bert::ops::AttentionShape s{2, 4, 2, 3};
    const int C = s.H * s.D;
    auto qkv = to_double(randn(size_t(s.B) * s.T * 3 * C, 38));
    std::vector<double> mask(size_t(s.B) * s.T, 0.0);
    mask[size_t(1) * s.T + 3] = -1e30;
    auto r = to_double(randn(size_t(s.B) * s.T * C, 39));
    std::vector<double> probs(size_t(s.B) * s.H * s.T * s.T);
    auto f = [&](std::vector<double>& ctx) {
      std::vector<double> p(probs.size());
      bert::ref::attention_forward(ctx.data(), p.data(), qkv.data(), mask.data(), s);
    };
    std::vector<double> ctx(r.size()), dqkv(qkv.size(), 0.0);
    bert::ref::attention_forward(ctx.data(), probs.data(), qkv.data(), mask.data(), s);
    bert::ref::attention_backward(dqkv.data(), r.data(), probs.data(), qkv.data(), s);
    check_gradient(qkv, r.size(), f, dqkv, r, "attention dqkv");
  }
}
