// BertEmbeddings and BertLayer, forward and backward. Names follow transformers' modeling_bert.py:
// BertEmbeddings.forward, BertSelfAttention (+ BertSelfOutput) = attention, BertIntermediate,
// BertOutput.
#include "model/encoder.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/error.hpp"  // fail_input, BERT_CHECK
#include "ops/ops.hpp"

namespace bert::model {

using ops::Activation;

namespace {

// Hugging Face's extended attention mask: (1 - mask) · finfo(float32).min, added to the scores.
constexpr float kMaskedScore = std::numeric_limits<float>::lowest();

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Elementwise loops over a batch's activations run on oneDNN's threads: one thread left them to the
// other spinning (training a 4-layer/256 model, a fifth of a step went outside oneDNN). Each element
// is computed as alone, so results do not depend on the thread count.
constexpr size_t kParallelFrom = size_t(1) << 15;

void add_into(float* dst, const float* src, size_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelFrom)
  for (size_t i = 0; i < n; ++i) dst[i] += src[i];
}

void multiply_into(float* dst, const float* a, const float* mask, size_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelFrom)
  for (size_t i = 0; i < n; ++i) dst[i] = a[i] * mask[i];
}

// dst = a ⊙ mask + residual.
void multiply_add(float* dst, const float* a, const float* mask, const float* residual, size_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelFrom)
  for (size_t i = 0; i < n; ++i) dst[i] = a[i] * mask[i] + residual[i];
}

// Backward accumulates into zeroed gradients; BERT-base zeroes 45 MB a layer.
void zero(float* dst, size_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelFrom)
  for (size_t i = 0; i < n; ++i) dst[i] = 0.f;
}

}  // namespace

EncoderInput make_encoder_input(const std::vector<const text::Encoding*>& batch, int32_t pad_id) {
  EncoderInput in;
  in.B = int(batch.size());
  for (const text::Encoding* e : batch) in.T = std::max(in.T, int(e->ids.size()));
  in.T = std::max(in.T, 1);
  const size_t n = size_t(in.B) * in.T;
  in.input_ids.assign(n, pad_id);
  in.token_type_ids.assign(n, 0);
  in.attention_mask.assign(n, 0);
  for (int b = 0; b < in.B; ++b) {
    const text::Encoding& e = *batch[size_t(b)];
    for (size_t t = 0; t < e.ids.size(); ++t) {
      const size_t i = size_t(b) * in.T + t;
      in.input_ids[i] = e.ids[t];
      in.token_type_ids[i] = e.type_ids.empty() ? 0 : e.type_ids[t];
      in.attention_mask[i] = e.attention_mask.empty() ? 1 : e.attention_mask[t];
    }
  }
  return in;
}

Encoder::Encoder(const BertConfig& config, const BertWeights& weights, bool training,
                 const QuantizedWeights* quantized)
    : config_(config),
      weights_(weights),
      training_capable_(training),
      packed_(training ? nullptr : std::make_unique<ops::PackedWeights>()),
      quantized_(quantized && !quantized->empty() ? quantized : nullptr) {
  if (training && quantized_) fail_model("an int8 model cannot be trained; load it with float weights");
}

ops::LinearWeights Encoder::linear(const float* w, const float* b, int in, int out, const QuantizedLinear& q) const {
  return ops::LinearWeights{w, b, in, out, packed_.get(), q.weight, q.scale};
}

void Encoder::make_dropout_mask(float* mask, size_t n, float p, uint64_t site) {
  const float keep_scale = 1.f / (1.f - p);
  const uint64_t base = splitmix64(dropout_seed_ ^ splitmix64(site));
#pragma omp parallel for schedule(static) if (n >= kParallelFrom)
  for (size_t i = 0; i < n; ++i) {
    const double u = double(splitmix64(base + i) >> 11) * 0x1.0p-53;  // uniform in [0, 1)
    mask[i] = u < p ? 0.f : keep_scale;
  }
}

int Encoder::attention_chunk(int B, int T) const {
  if (training_capable_) return B;  // backward needs every probability
  const size_t per_sequence = size_t(config_.num_attention_heads) * T * T * sizeof(float);
  return int(std::clamp<size_t>(kAttentionScratchBytes / per_sequence, 1, size_t(B)));
}

void Encoder::allocate(int B, int T, bool training) {
  B_ = B;
  T_ = T;
  // The buffers are laid out for exactly (B, T) in one arena, which only grows: a shape that fits
  // reuses it without touching the allocator. Inference has at least kPackRows rows (see pack_rows).
  const size_t C = config_.hidden_size, I = config_.intermediate_size;
  const size_t M = training ? size_t(B) * T : std::max(size_t(B) * T, size_t(kPackRows));
  const size_t P = size_t(attention_chunk(B, T)) * config_.num_attention_heads * T * T;
  const bool attn_drop = training && config_.attention_probs_dropout_prob > 0;
  const bool hidden_drop = training && config_.hidden_dropout_prob > 0;
  const int L = training ? config_.num_hidden_layers : 1;

  // Two passes over the same list: count, then hand out pointers.
  std::vector<std::pair<float**, size_t>> plan;
  auto want = [&](float*& p, size_t n) { plan.emplace_back(&p, (n + 15) / 16 * 16); };
  want(mask_add_, M);
  want(embeddings_sum_, M * C);
  want(embeddings_norm_, M * C);
  want(embeddings_mean_, M);
  want(embeddings_var_, M);
  embeddings_dropout_ = nullptr;
  if (hidden_drop) want(embeddings_dropout_, M * C);
  want(embedding_output_, M * C);
  want(hidden_[0], M * C);
  want(hidden_[1], M * C);
  want(scratch_, M * std::max(C, I));
  layers_.assign(size_t(L), LayerActivations{});
  for (LayerActivations& a : layers_) {
    a = LayerActivations{};
    want(a.qkv, M * 3 * C);
    want(a.attention_probs, P);
    if (attn_drop) want(a.attention_dropout, P);
    want(a.context, M * C);
    want(a.attention_residual, M * C);
    if (hidden_drop) want(a.attention_hidden_dropout, M * C);
    want(a.attention_output, M * C);
    want(a.attention_mean, M);
    want(a.attention_var, M);
    if (training) want(a.intermediate_pre, M * I);
    want(a.intermediate, M * I);
    want(a.output_residual, M * C);
    if (hidden_drop) want(a.output_hidden_dropout, M * C);
    want(a.layer_output, M * C);
    want(a.output_mean, M);
    want(a.output_var, M);
  }
  if (training) {
    want(d_a_, M * C);
    want(d_b_, M * C);
    want(d_c_, M * C);
    want(d_inter_, M * I);
    want(d_inter_pre_, M * I);
    want(d_qkv_, M * 3 * C);
    want(d_probs_, P);
  }
  size_t total = 0;
  for (auto& [p, n] : plan) total += n;
  arena_.reserve(total * sizeof(float));  // not zeroed: every buffer is written before it is read
  size_t offset = 0;
  for (auto& [p, n] : plan) {
    *p = arena_.as<float>() + offset;
    offset += n;
  }
}

// BertEmbeddings: LayerNorm(word[id] + position[t] + token_type[type]), then dropout.
void Encoder::embeddings_forward(const EncoderInput& in, bool training) {
  const int C = config_.hidden_size;
  const size_t M = size_t(in.B) * in.T;
  for (size_t i = 0; i < M; ++i) {
    const int32_t id = in.input_ids[i], type = in.token_type_ids.empty() ? 0 : in.token_type_ids[i];
    if (id < 0 || id >= config_.vocab_size) fail_input("token id {} is outside the vocabulary", id);
    if (type < 0 || type >= config_.type_vocab_size) fail_input("token type {} is out of range", type);
    mask_add_[i] = in.attention_mask.empty() || in.attention_mask[i] ? 0.f : kMaskedScore;
  }
  // On oneDNN's threads: a serial sum here would leave them idle for a millisecond per batch.
#pragma omp parallel for schedule(static) num_threads(M >= 64 ? ops::num_threads() : 1)
  for (size_t i = 0; i < M; ++i) {
    const int32_t type = in.token_type_ids.empty() ? 0 : in.token_type_ids[i];
    const float* w = weights_.word_embeddings + size_t(in.input_ids[i]) * C;
    const float* p = weights_.position_embeddings + (i % size_t(in.T)) * C;
    const float* y = weights_.token_type_embeddings + size_t(type) * C;
    float* out = embeddings_sum_ + i * C;
    for (int c = 0; c < C; ++c) out[c] = w[c] + p[c] + y[c];
  }
  // Each sequence's real length, and whether every mask is ones then zeros (right padding).
  lengths_.assign(size_t(in.B), in.T);
  right_padded_ = true;
  if (!in.attention_mask.empty())
    for (int b = 0; b < in.B; ++b) {
      const uint8_t* m = in.attention_mask.data() + size_t(b) * in.T;
      const int n = int(std::find(m, m + in.T, 0) - m);
      lengths_[size_t(b)] = n;
      right_padded_ = right_padded_ && n > 0 && std::count(m + n, m + in.T, 0) == in.T - n;
    }
  // Without dropout the normalized sum is the output (backward reads the sum, not the norm).
  const bool dropout = training && embeddings_dropout_;
  ops::layernorm_forward(dropout ? embeddings_norm_ : embedding_output_, training ? embeddings_mean_ : nullptr,
                         training ? embeddings_var_ : nullptr, embeddings_sum_, weights_.embeddings_norm_weight,
                         weights_.embeddings_norm_bias, int(M), C, config_.layer_norm_eps);
  if (dropout) {
    make_dropout_mask(embeddings_dropout_, M * C, config_.hidden_dropout_prob, 1);
    multiply_into(embedding_output_, embeddings_norm_, embeddings_dropout_, M * C);
  }
}

// Inference packs a padded batch's real tokens together, each sequence right after the one before,
// so linears, layer norms and activations do no work on padding (3% of the rows of real text in
// batches of similar lengths); the rows are rounded up to kPackRows, so batches of similar sizes
// share their primitives. forward() hands out the usual (B,T) layout.

void Encoder::pack_rows() {
  const int C = config_.hidden_size, padded = B_ * T_;
  offsets_.resize(size_t(B_));
  int total = 0;
  for (int b = 0; b < B_; ++b) {
    offsets_[size_t(b)] = total;
    total += lengths_[size_t(b)];
  }
  const int rows = std::min((total + kPackRows - 1) / kPackRows * kPackRows, padded);
  packed_rows_ = !training_capable_ && right_padded_ && rows < padded;
  if (!packed_rows_) {
    for (int b = 0; b < B_; ++b) offsets_[size_t(b)] = b * T_;
    rows_ = padded;
    // Fewer rows than a kernel block take other oneDNN kernels (a short text alone summed in another
    // order than in a batch); zero rows make up the block.
    if (!training_capable_ && rows_ < kPackRows) {
      std::fill(embedding_output_ + size_t(rows_) * C, embedding_output_ + size_t(kPackRows) * C, 0.f);
      rows_ = kPackRows;
    }
    return;
  }
  // In place, first sequence first: each moves down, never onto rows still to be read.
  for (int b = 0; b < B_; ++b)
    std::memmove(embedding_output_ + size_t(offsets_[size_t(b)]) * C, embedding_output_ + size_t(b) * T_ * C,
                 size_t(lengths_[size_t(b)]) * C * sizeof(float));
  std::fill(embedding_output_ + size_t(total) * C, embedding_output_ + size_t(rows) * C, 0.f);
  rows_ = rows;
}

// `to` may be `from`: last sequence first, each moves up, never onto rows still to be read.
// Padding rows become zeros.
void Encoder::unpack_rows(float* to, const float* from) const {
  const size_t C = size_t(config_.hidden_size);
  for (int b = B_ - 1; b >= 0; --b) {
    const size_t n = size_t(lengths_[size_t(b)]), row = size_t(b) * T_;
    std::memmove(to + row * C, from + size_t(offsets_[size_t(b)]) * C, n * C * sizeof(float));
    std::fill(to + (row + n) * C, to + (row + T_) * C, 0.f);
  }
}

// BertLayer: attention (self-attention + BertSelfOutput), BertIntermediate, BertOutput.
void Encoder::layer_forward(int l, LayerActivations& a, bool training) {
  const LayerWeights& w = weights_.layers[size_t(l)];
  const int C = config_.hidden_size, I = config_.intermediate_size, M = rows_;
  const uint64_t site = uint64_t(l + 1) << 8;

  // Q, K and V in one matmul: the three weights are adjacent, a (3C, C) matrix.
  const QuantizedWeights::Layer* q = quantized_ ? &quantized_->layers[size_t(l)] : nullptr;
  auto quant = [&](QuantizedLinear QuantizedWeights::Layer::*member) { return q ? q->*member : QuantizedLinear{}; };
  // int8 models on CPUs with AVX512-BF16 keep q, k, v in bfloat16 (in the same buffer) for attention.
  const bool bf16 = bf16_attention() && right_padded_;
  uint16_t* qkv_bf16 = reinterpret_cast<uint16_t*>(a.qkv);
  if (bf16)
    ops::linear_forward_bf16(qkv_bf16, a.input,
                             linear(w.query_weight, w.query_bias, C, 3 * C, quant(&QuantizedWeights::Layer::qkv)), M);
  else
    ops::linear_forward(a.qkv, a.input,
                        linear(w.query_weight, w.query_bias, C, 3 * C, quant(&QuantizedWeights::Layer::qkv)), M);
  const ops::AttentionShape shape{B_, T_, config_.num_attention_heads, config_.head_dim()};
  // A training-capable encoder has the dropout masks allocated; only a training forward uses them
  // (evaluation must compute what inference does).
  float* attention_dropout = training ? a.attention_dropout : nullptr;
  if (attention_dropout)
    make_dropout_mask(attention_dropout, size_t(B_) * shape.H * T_ * T_, config_.attention_probs_dropout_prob,
                      site + 1);
  // Inference runs right-padded batches over each sequence's real tokens (no mask, no work on
  // padding, scores in per-thread scratch); training keeps every score for backward.
  const ops::SequenceRows seqs{lengths_.data(), offsets_.data(), rows_};
  if (bf16) {
    ops::attention_forward_varlen_bf16(a.context, qkv_bf16, seqs, shape);
  } else if (!training_capable_ && right_padded_) {
    ops::attention_forward_varlen(a.context, a.qkv, seqs, shape);
  } else {
    const int chunk = attention_chunk(B_, T_);
    for (int b = 0; b < B_; b += chunk) {
      const int n = std::min(chunk, B_ - b);
      const size_t rows = size_t(b) * T_;
      ops::attention_forward(a.context + rows * C, a.attention_probs, a.qkv + rows * 3 * C, mask_add_ + rows,
                             {n, T_, shape.H, shape.D}, attention_dropout);
    }
  }

  // BertSelfOutput: LayerNorm(dropout(dense(context)) + input).
  auto dense_residual = [&](float* residual_out, const float* x, const float* weight, const float* bias, int in,
                            const float* residual, float* dropout_mask, uint64_t drop_site, const QuantizedLinear& ql) {
    if (dropout_mask) {
      ops::linear_forward(scratch_, x, linear(weight, bias, in, C), M);
      make_dropout_mask(dropout_mask, size_t(M) * C, config_.hidden_dropout_prob, drop_site);
      multiply_add(residual_out, scratch_, dropout_mask, residual, size_t(M) * C);
    } else {
      ops::linear_forward(residual_out, x, linear(weight, bias, in, C, ql), M, Activation::ACT_NONE, residual);
    }
  };
  dense_residual(a.attention_residual, a.context, w.attention_output_weight, w.attention_output_bias, C, a.input,
                 training ? a.attention_hidden_dropout : nullptr, site + 2, quant(&QuantizedWeights::Layer::attention_output));
  ops::layernorm_forward(a.attention_output, training ? a.attention_mean : nullptr,
                         training ? a.attention_var : nullptr, a.attention_residual, w.attention_norm_weight,
                         w.attention_norm_bias, M, C, config_.layer_norm_eps);

  // BertIntermediate: act(dense(x)); training keeps the pre-activation for the backward pass.
  if (training) {
    ops::linear_forward(a.intermediate_pre, a.attention_output, linear(w.intermediate_weight, w.intermediate_bias, C, I),
                        M);
    ops::activation_forward(a.intermediate, a.intermediate_pre, size_t(M) * I, config_.hidden_act);
  } else {
    ops::linear_forward(a.intermediate, a.attention_output,
                        linear(w.intermediate_weight, w.intermediate_bias, C, I,
                               quant(&QuantizedWeights::Layer::intermediate)),
                        M, config_.hidden_act);
  }

  // BertOutput: LayerNorm(dropout(dense(intermediate)) + attention_output).
  dense_residual(a.output_residual, a.intermediate, w.output_weight, w.output_bias, I, a.attention_output,
                 training ? a.output_hidden_dropout : nullptr, site + 3, quant(&QuantizedWeights::Layer::output));
  ops::layernorm_forward(a.layer_output, training ? a.output_mean : nullptr, training ? a.output_var : nullptr,
                         a.output_residual, w.output_norm_weight, w.output_norm_bias, M, C, config_.layer_norm_eps);
}

const float* Encoder::forward(const EncoderInput& in, const ForwardOptions& options) {
  if (options.training && !training_capable_)
    fail(ErrorKind::ERROR_INTERNAL, "internal error: training forward on an inference encoder");
  if (in.B <= 0 || in.T <= 0) fail_input("empty batch");
  if (in.T > config_.max_position_embeddings)
    fail_input("sequence of {} tokens is longer than the model's {} positions", in.T,
               config_.max_position_embeddings);
  BERT_CHECK(in.input_ids.size() == size_t(in.B) * in.T);
  const bool training = options.training;
  allocate(in.B, in.T, training_capable_);
  dropout_seed_ = options.dropout_seed;
  trained_forward_ = training;
  input_ids_ = in.input_ids;
  token_type_ids_ = in.token_type_ids;
  if (token_type_ids_.empty()) token_type_ids_.assign(in.input_ids.size(), 0);

  embeddings_forward(in, training);
  if (options.on_hidden_state) options.on_hidden_state(0, embedding_output_);
  pack_rows();
  const float* hidden = embedding_output_;
  for (int l = 0; l < config_.num_hidden_layers; ++l) {
    LayerActivations& a = layers_[training_capable_ ? size_t(l) : 0];
    a.input = const_cast<float*>(hidden);
    // Inference reuses one set of buffers, so the output goes to the ping-pong buffer not read now.
    float* own_output = a.layer_output;
    if (!training_capable_) a.layer_output = hidden_[l % 2];
    layer_forward(l, a, training);
    hidden = a.layer_output;
    if (!training_capable_) a.layer_output = own_output;
    if (options.on_hidden_state) {
      if (packed_rows_) unpack_rows(scratch_, hidden);
      options.on_hidden_state(l + 1, packed_rows_ ? scratch_ : hidden);
    }
  }
  // Inference's hidden states are its own ping-pong buffers, (B,T) in size.
  if (packed_rows_) unpack_rows(const_cast<float*>(hidden), hidden);
  return hidden;
}

// ---- backward -----------------------------------------------------------------------------------

void Encoder::layer_backward(int l, LayerActivations& a, const float* d_layer_output, float* d_input,
                             BertWeights& grads) {
  const LayerWeights& w = weights_.layers[size_t(l)];
  LayerWeights& g = grads.layers[size_t(l)];
  const int C = config_.hidden_size, I = config_.intermediate_size, M = B_ * T_;
  const size_t MC = size_t(M) * C, MI = size_t(M) * I;
  float* d_output_residual = d_a_;
  float* d_attention_output = d_b_;
  float* d_dense = d_c_;
  // The masks of the last forward, if it was a training one.
  const float* output_dropout = trained_forward_ ? a.output_hidden_dropout : nullptr;
  const float* attention_hidden_dropout = trained_forward_ ? a.attention_hidden_dropout : nullptr;
  const float* attention_dropout = trained_forward_ ? a.attention_dropout : nullptr;

  // BertOutput LayerNorm.
  zero(d_output_residual, MC);
  ops::layernorm_backward(d_output_residual, g.output_norm_weight, g.output_norm_bias, d_layer_output,
                          a.output_residual, a.output_mean, a.output_var, w.output_norm_weight, M, C,
                          config_.layer_norm_eps);
  // Residual: the LayerNorm input is dense(...) + attention_output.
  std::copy_n(d_output_residual, MC, d_attention_output);
  const float* d_out_dense = d_output_residual;
  if (output_dropout) {
    multiply_into(d_dense, d_output_residual, output_dropout, MC);
    d_out_dense = d_dense;
  }
  zero(d_inter_, MI);
  ops::linear_backward(d_inter_, g.output_weight, g.output_bias, d_out_dense, a.intermediate,
                       linear(w.output_weight, nullptr, I, C), M);
  // BertIntermediate.
  zero(d_inter_pre_, MI);
  ops::activation_backward(d_inter_pre_, d_inter_, a.intermediate_pre, MI, config_.hidden_act);
  ops::linear_backward(d_attention_output, g.intermediate_weight, g.intermediate_bias, d_inter_pre_,
                       a.attention_output, linear(w.intermediate_weight, nullptr, C, I), M);
  // BertSelfOutput LayerNorm and residual.
  float* d_attention_residual = d_a_;
  zero(d_attention_residual, MC);
  ops::layernorm_backward(d_attention_residual, g.attention_norm_weight, g.attention_norm_bias,
                          d_attention_output, a.attention_residual, a.attention_mean, a.attention_var,
                          w.attention_norm_weight, M, C, config_.layer_norm_eps);
  add_into(d_input, d_attention_residual, MC);
  const float* d_attn_dense = d_attention_residual;
  if (attention_hidden_dropout) {
    multiply_into(d_dense, d_attention_residual, attention_hidden_dropout, MC);
    d_attn_dense = d_dense;
  }
  float* d_context = d_b_;
  zero(d_context, MC);
  ops::linear_backward(d_context, g.attention_output_weight, g.attention_output_bias, d_attn_dense, a.context,
                       linear(w.attention_output_weight, nullptr, C, C), M);
  // Self-attention and the fused QKV projection.
  zero(d_qkv_, MC * 3);
  const ops::AttentionShape shape{B_, T_, config_.num_attention_heads, config_.head_dim()};
  ops::attention_backward(d_qkv_, d_probs_, d_context, a.attention_probs, a.qkv, shape, attention_dropout);
  ops::linear_backward(d_input, g.query_weight, g.query_bias, d_qkv_, a.input,
                       linear(w.query_weight, nullptr, C, 3 * C), M);
}

void Encoder::embeddings_backward(const float* d_embedding_output, BertWeights& grads) {
  const int C = config_.hidden_size;
  const size_t M = size_t(B_) * T_, MC = M * C;
  const float* d_norm = d_embedding_output;
  if (embeddings_dropout_ && trained_forward_) {
    multiply_into(d_c_, d_embedding_output, embeddings_dropout_, MC);
    d_norm = d_c_;
  }
  float* d_sum = d_a_;
  zero(d_sum, MC);
  ops::layernorm_backward(d_sum, grads.embeddings_norm_weight, grads.embeddings_norm_bias, d_norm, embeddings_sum_,
                          embeddings_mean_, embeddings_var_, weights_.embeddings_norm_weight, int(M), C,
                          config_.layer_norm_eps);
  // Scatter into the rows used; nn.Embedding(padding_idx) never updates the padding row.
  for (size_t i = 0; i < M; ++i) {
    const float* g = d_sum + i * C;
    const int32_t id = input_ids_[i];
    if (id != config_.pad_token_id) add_into(grads.word_embeddings + size_t(id) * C, g, size_t(C));
    add_into(grads.position_embeddings + (i % size_t(T_)) * C, g, size_t(C));
    add_into(grads.token_type_embeddings + size_t(token_type_ids_[i]) * C, g, size_t(C));
  }
}

void Encoder::backward(const float* d_hidden, BertWeights& grads) {
  if (!training_capable_ || layers_.empty())
    fail(ErrorKind::ERROR_INTERNAL, "internal error: backward without a training forward");
  const size_t MC = size_t(B_) * T_ * config_.hidden_size;
  // d_out holds the gradient w.r.t. the current layer's output; d_in receives its input's (in the
  // ping-pong buffers inference uses for layer outputs).
  float* d_out = hidden_[0];
  float* d_in = hidden_[1];
  std::copy_n(d_hidden, MC, d_out);
  const int first = std::max(first_trainable_layer_, 0);
  for (int l = config_.num_hidden_layers - 1; l >= first; --l) {
    zero(d_in, MC);
    layer_backward(l, layers_[size_t(l)], d_out, d_in, grads);
    std::swap(d_in, d_out);
  }
  if (first_trainable_layer_ < 0) embeddings_backward(d_out, grads);
}

}  // namespace bert::model
