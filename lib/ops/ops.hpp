// The operations a BERT forward and backward pass is made of, on raw float buffers. They run on
// oneDNN primitives (lib/ops/onednn/ holds the only files that include oneDNN); each has a naive
// double-precision twin in lib/ops/reference.hpp that the tests compare against.
//
// Conventions (llm.c): outputs first, then inputs, then weights, then sizes. Letters: B batch,
// T tokens, C hidden, H heads, D head dim (C = H·D), M rows (= B·T), K in-features, N out-features.
// `linear` is PyTorch's: y = x·Wᵀ + b with W stored (N, K). Backward functions *accumulate* into
// every gradient they write (dx, dW, db alike); zeroing is the caller's separate step.
//
//   bert::ops::linear_forward(y, x, {W, b, K, N}, M, bert::ops::Activation::ACT_GELU_ERF);
//   bert::ops::layernorm_forward(y, mean, var, x, gamma, beta, M, C, 1e-12f);
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace bert::ops {

enum class Activation { ACT_NONE, ACT_GELU_ERF, ACT_GELU_TANH, ACT_RELU, ACT_TANH };

// Threads oneDNN may use for the calling thread's primitives (OpenMP underneath).
void set_num_threads(int threads);
int num_threads();

// Weights repacked once into oneDNN's preferred blocked layout, cached by address. Whoever runs
// inference owns one and keeps it no longer than the weights it packed (an address may be reused
// by other weights after they are freed); training weights change every step and are read in place.
class PackedWeights {
 public:
  PackedWeights();
  ~PackedWeights();
  PackedWeights(const PackedWeights&) = delete;
  PackedWeights& operator=(const PackedWeights&) = delete;
  // Pack every layer at its first call instead of after some thousands of rows: a run of many
  // batches then computes each on the same kernels (the first ones would sum in another order).
  void pack_from_first_call();
  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  Impl* impl_;
};

// The weights of one Linear layer, in PyTorch layout.
struct LinearWeights {
  const float* weight = nullptr;  // (N, K)
  const float* bias = nullptr;    // (N) or null
  int in_features = 0;            // K
  int out_features = 0;           // N
  PackedWeights* packed = nullptr;  // non-null: the weights are frozen, pack them once there
  // Int8 instead of `weight` (inference only, needs `packed`): W[n][k] ≈ weight_scale[n]·weight_s8[n][k].
  // The input is quantized to u8 (0..int8_activation_top()) for each call and the product runs u8·s8.
  const int8_t* weight_s8 = nullptr;  // (N, K)
  const float* weight_scale = nullptr;  // (N)
};

// y (M,N) = act(x (M,K)·Wᵀ + b + residual (M,N)); residual may be null.
void linear_forward(float* y, const float* x, const LinearWeights& w, int M,
                    Activation act = Activation::ACT_NONE, const float* residual = nullptr);
// y (M,N) = x·Wᵀ + b written as bfloat16, for int8 weights (the fused QKV of an int8 model).
void linear_forward_bf16(uint16_t* y, const float* x, const LinearWeights& w, int M);
// dx (M,K) += dy·W; dW (N,K) += dyᵀ·x; db (N) += Σ_rows dy. dx, dW or db may be null (skipped).
void linear_backward(float* dx, float* dweight, float* dbias, const float* dy, const float* x,
                     const LinearWeights& w, int M);

// y (M,C) = (x - mean) / sqrt(var + eps) · gamma + beta, per row. mean and var (M) are saved for
// the backward pass; pass null to skip saving (inference).
void layernorm_forward(float* y, float* mean, float* var, const float* x, const float* gamma,
                       const float* beta, int M, int C, float eps);
void layernorm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x,
                        const float* mean, const float* var, const float* gamma, int M, int C,
                        float eps);

// y (n) = act(x (n)); backward: dx += act'(x)·dy.
void activation_forward(float* y, const float* x, size_t n, Activation act);
void activation_backward(float* dx, const float* dy, const float* x, size_t n, Activation act);

// Softmax over the last axis of x (rows, cols), in place allowed; backward dx += from y and dy.
void softmax_forward(float* y, const float* x, int rows, int cols);
void softmax_backward(float* dx, const float* dy, const float* y, int rows, int cols);

// Scaled dot-product attention over a fused QKV buffer.
//   qkv (B,T,3C): per token [q(C) k(C) v(C)], each C = H heads × D.
//   mask_add (B,T): added to every score of key position t (0 to attend, a large negative
//   number at padding), as Hugging Face's extended attention mask; null when nothing is masked.
//   probs (B,H,T,T): the softmax, saved for backward (training) or scratch (inference).
//   ctx (B,T,C): Σ_t' probs · v, heads concatenated.
// `dropout_mask` (B,H,T,T, null = none) multiplies the probabilities after the softmax (entries are
// 0 or 1/(1-p)); probs holds the values before dropout.
struct AttentionShape {
  int B, T, H, D;
};
void attention_forward(float* ctx, float* probs, const float* qkv, const float* mask_add,
                       const AttentionShape& s, const float* dropout_mask = nullptr);
// Where a batch's sequences sit in its rows: sequence b in rows offsets[b] .. offsets[b] + lengths[b]
// - 1 (ascending, not overlapping), the other rows up to `rows` padding. Padded batches have
// offsets[b] = b·T; packed ones put each sequence right after the one before.
struct SequenceRows {
  const int* lengths;
  const int* offsets;
  int rows;
};
// Inference attention without work on padding: sequence b attends over (and is computed for) its
// lengths[b] tokens only, as if alone; the context rows of padding are set to 0. s.B is the number
// of sequences and s.T the longest length allowed. It runs in pieces (sequences of one length × a
// few heads), each on one of oneDNN's threads, with scores in per-thread scratch of at most about
// 1 MB each.
void attention_forward_varlen(float* ctx, const float* qkv, const SequenceRows& seqs, const AttentionShape& s);
// The int8 path's attention: q, k, v in bfloat16 (qkv_bf16 (B,T,3C), as written by
// linear_forward_bf16), scores and softmax computed in f32, probabilities multiplied with v in
// bfloat16 — twice the speed of f32 on CPUs with AVX512-BF16, at the precision int8 models already
// trade away. Same padding rules and pieces as attention_forward_varlen.
void attention_forward_varlen_bf16(float* ctx, const uint16_t* qkv_bf16, const SequenceRows& seqs,
                                   const AttentionShape& s);
// Whether this CPU runs bfloat16 matmuls natively (AVX512-BF16); the int8 path uses f32 otherwise.
bool has_native_bf16();
// The largest code int8 activations are quantized to: 255 where u8·s8 products are exact (VNNI),
// 127 where oneDNN adds pairs of products in saturating 16 bits (AVX2, AVX-512 without VNNI).
int int8_activation_top();

// dqkv (B,T,3C) += gradient of ctx w.r.t. q, k, v; scratch (B,H,T,T) is overwritten.
void attention_backward(float* dqkv, float* scratch, const float* dctx, const float* probs,
                        const float* qkv, const AttentionShape& s, const float* dropout_mask = nullptr);

// What this machine runs, as (what, how) lines for `bertctl info --cpu` and the benchmarks: oneDNN's
// version and instruction set, the kernels of f32 and int8 linear layers at a BERT-base shape, the
// int8 scheme, attention and quantizer paths.
std::vector<std::pair<std::string, std::string>> engine_report();
// Calls at M rows after which a linear layer runs as it will from then on (its weights packed, an
// int8 layer on a primitive of its own): a benchmark of the steady state warms up that long, as ONNX
// Runtime packs its weights when a session is created.
int calls_until_steady(int M);

}  // namespace bert::ops
