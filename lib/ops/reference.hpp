// Naive reference versions of the ops in ops.hpp, templated on the scalar type so tests run them
// in double and compare the oneDNN float results against them (and check the backward passes by
// central differences). Written for clarity, never for speed; the same signatures and letters as
// ops.hpp, except that LayerNorm saves rstd = 1/sqrt(var + eps) like llm.c.
#pragma once
#include <cmath>
#include <cstddef>
#include <vector>

#include "ops/ops.hpp"  // Activation, AttentionShape

namespace bert::ref {

using ops::Activation;
using ops::AttentionShape;

template <class T>
T activation(T x, Activation act) {
  switch (act) {
    case Activation::ACT_GELU_ERF: return T(0.5) * x * (T(1) + std::erf(x / std::sqrt(T(2))));
    case Activation::ACT_GELU_TANH: {
      const T c = std::sqrt(T(2) / T(M_PI));
      return T(0.5) * x * (T(1) + std::tanh(c * (x + T(0.044715) * x * x * x)));
    }
    case Activation::ACT_RELU: return x > 0 ? x : T(0);
    case Activation::ACT_TANH: return std::tanh(x);
    case Activation::ACT_NONE: break;
  }
  return x;
}

template <class T>
T activation_derivative(T x, Activation act) {
  switch (act) {
    case Activation::ACT_GELU_ERF: {
      const T cdf = T(0.5) * (T(1) + std::erf(x / std::sqrt(T(2))));
      const T pdf = std::exp(-x * x / T(2)) / std::sqrt(T(2) * T(M_PI));
      return cdf + x * pdf;
    }
    case Activation::ACT_GELU_TANH: {
      const T c = std::sqrt(T(2) / T(M_PI));
      const T u = c * (x + T(0.044715) * x * x * x);
      const T th = std::tanh(u);
      const T du = c * (T(1) + T(3) * T(0.044715) * x * x);
      return T(0.5) * (T(1) + th) + T(0.5) * x * (T(1) - th * th) * du;
    }
    case Activation::ACT_RELU: return x > 0 ? T(1) : T(0);
    case Activation::ACT_TANH: {
      const T th = std::tanh(x);
      return T(1) - th * th;
    }
    case Activation::ACT_NONE: break;
  }
  return T(1);
}

// y (M,N) = act(x (M,K)·Wᵀ + b + residual)
template <class T>
void linear_forward(T* y, const T* x, const T* w, const T* b, int M, int K, int N,
                    Activation act = Activation::ACT_NONE, const T* residual = nullptr) {
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      T acc = b ? b[n] : T(0);
      for (int k = 0; k < K; ++k) acc += x[size_t(m) * K + k] * w[size_t(n) * K + k];
      if (residual) acc += residual[size_t(m) * N + n];
      y[size_t(m) * N + n] = activation(acc, act);
    }
}

template <class T>
void linear_backward(T* dx, T* dw, T* db, const T* dy, const T* x, const T* w, int M, int K, int N) {
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      const T g = dy[size_t(m) * N + n];
      if (db) db[n] += g;
      for (int k = 0; k < K; ++k) {
        if (dx) dx[size_t(m) * K + k] += g * w[size_t(n) * K + k];
        if (dw) dw[size_t(n) * K + k] += g * x[size_t(m) * K + k];
      }
    }
}

template <class T>
void layernorm_forward(T* y, T* mean, T* rstd, const T* x, const T* gamma, const T* beta, int M, int C,
                       T eps) {
  for (int m = 0; m < M; ++m) {
    const T* xr = x + size_t(m) * C;
    T mu = 0, var = 0;
    for (int c = 0; c < C; ++c) mu += xr[c];
    mu /= C;
    for (int c = 0; c < C; ++c) var += (xr[c] - mu) * (xr[c] - mu);
    var /= C;
    const T r = T(1) / std::sqrt(var + eps);
    for (int c = 0; c < C; ++c) y[size_t(m) * C + c] = (xr[c] - mu) * r * gamma[c] + beta[c];
    if (mean) mean[m] = mu;
    if (rstd) rstd[m] = r;
  }
}

template <class T>
void layernorm_backward(T* dx, T* dgamma, T* dbeta, const T* dy, const T* x, const T* mean, const T* rstd,
                        const T* gamma, int M, int C) {
  for (int m = 0; m < M; ++m) {
    const T* xr = x + size_t(m) * C;
    const T* g = dy + size_t(m) * C;
    T mean_dnorm = 0, mean_dnorm_xhat = 0;
    for (int c = 0; c < C; ++c) {
      const T xhat = (xr[c] - mean[m]) * rstd[m];
      const T dnorm = g[c] * gamma[c];
      mean_dnorm += dnorm;
      mean_dnorm_xhat += dnorm * xhat;
      if (dgamma) dgamma[c] += g[c] * xhat;
      if (dbeta) dbeta[c] += g[c];
    }
    mean_dnorm /= C;
    mean_dnorm_xhat /= C;
    for (int c = 0; c < C; ++c) {
      const T xhat = (xr[c] - mean[m]) * rstd[m];
      const T dnorm = g[c] * gamma[c];
      if (dx) dx[size_t(m) * C + c] += (dnorm - mean_dnorm - xhat * mean_dnorm_xhat) * rstd[m];
    }
  }
}

template <class T>
void softmax_forward(T* y, const T* x, int rows, int cols) {
  for (int r = 0; r < rows; ++r) {
    const T* xr = x + size_t(r) * cols;
    T mx = xr[0];
    for (int c = 1; c < cols; ++c) mx = std::max(mx, xr[c]);
    T sum = 0;
    std::vector<T> e(cols);
    for (int c = 0; c < cols; ++c) sum += (e[c] = std::exp(xr[c] - mx));
    for (int c = 0; c < cols; ++c) y[size_t(r) * cols + c] = e[c] / sum;
  }
}

template <class T>
void softmax_backward(T* dx, const T* dy, const T* y, int rows, int cols) {
  for (int r = 0; r < rows; ++r) {
    const T* yr = y + size_t(r) * cols;
    const T* gr = dy + size_t(r) * cols;
    T dot = 0;
    for (int c = 0; c < cols; ++c) dot += yr[c] * gr[c];
    for (int c = 0; c < cols; ++c) dx[size_t(r) * cols + c] += yr[c] * (gr[c] - dot);
  }
}

// Same layout as ops::attention_forward: qkv (B,T,3C), mask_add (B,T), probs (B,H,T,T), ctx (B,T,C).
template <class T>
void attention_forward(T* ctx, T* probs, const T* qkv, const T* mask_add, const AttentionShape& s,
                       const T* dropout_mask = nullptr) {
  const int B = s.B, Tn = s.T, H = s.H, D = s.D, C = H * D;
  const T scale = T(1) / std::sqrt(T(D));
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h) {
      T* p = probs + (size_t(b) * H + h) * Tn * Tn;
      for (int i = 0; i < Tn; ++i) {
        const T* q = qkv + (size_t(b) * Tn + i) * 3 * C + h * D;
        for (int j = 0; j < Tn; ++j) {
          const T* k = qkv + (size_t(b) * Tn + j) * 3 * C + C + h * D;
          T dot = 0;
          for (int d = 0; d < D; ++d) dot += q[d] * k[d];
          p[size_t(i) * Tn + j] = dot * scale + mask_add[size_t(b) * Tn + j];
        }
      }
      softmax_forward(p, p, Tn, Tn);
      for (int i = 0; i < Tn; ++i)
        for (int d = 0; d < D; ++d) {
          T acc = 0;
          for (int j = 0; j < Tn; ++j) {
            T pij = p[size_t(i) * Tn + j];
            if (dropout_mask) pij *= dropout_mask[(size_t(b) * H + h) * Tn * Tn + size_t(i) * Tn + j];
            acc += pij * qkv[(size_t(b) * Tn + j) * 3 * C + 2 * C + h * D + d];
          }
          ctx[(size_t(b) * Tn + i) * C + h * D + d] = acc;
        }
    }
}

template <class T>
void attention_backward(T* dqkv, const T* dctx, const T* probs, const T* qkv, const AttentionShape& s,
                        const T* dropout_mask = nullptr) {
  const int B = s.B, Tn = s.T, H = s.H, D = s.D, C = H * D;
  const T scale = T(1) / std::sqrt(T(D));
  std::vector<T> dp(size_t(Tn) * Tn), ds(size_t(Tn) * Tn);
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h) {
      const size_t base = (size_t(b) * H + h) * Tn * Tn;
      const T* p = probs + base;
      auto keep = [&](int i, int j) { return dropout_mask ? dropout_mask[base + size_t(i) * Tn + j] : T(1); };
      for (int i = 0; i < Tn; ++i)
        for (int j = 0; j < Tn; ++j) {
          T acc = 0;
          for (int d = 0; d < D; ++d)
            acc += dctx[(size_t(b) * Tn + i) * C + h * D + d] * qkv[(size_t(b) * Tn + j) * 3 * C + 2 * C + h * D + d];
          dp[size_t(i) * Tn + j] = acc * keep(i, j);
          for (int d = 0; d < D; ++d)  // dV
            dqkv[(size_t(b) * Tn + j) * 3 * C + 2 * C + h * D + d] +=
                p[size_t(i) * Tn + j] * keep(i, j) * dctx[(size_t(b) * Tn + i) * C + h * D + d];
        }
      std::fill(ds.begin(), ds.end(), T(0));
      softmax_backward(ds.data(), dp.data(), p, Tn, Tn);
      for (int i = 0; i < Tn; ++i)
        for (int j = 0; j < Tn; ++j) {
          const T g = ds[size_t(i) * Tn + j] * scale;
          for (int d = 0; d < D; ++d) {
            dqkv[(size_t(b) * Tn + i) * 3 * C + h * D + d] += g * qkv[(size_t(b) * Tn + j) * 3 * C + C + h * D + d];
            dqkv[(size_t(b) * Tn + j) * 3 * C + C + h * D + d] += g * qkv[(size_t(b) * Tn + i) * 3 * C + h * D + d];
          }
        }
    }
}

}  // namespace bert::ref
