#include "model/heads.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/error.hpp"  // BERT_CHECK, fail_usage
#include "ops/ops.hpp"

namespace bert::model {

using ops::Activation;

namespace {

// The sentence heads run one row at a time, on unpacked f32 weights: the kernel oneDNN picks (and so
// the order of its sums) depends on the row count and on packing, and a text's scores must not
// depend on the batch it came in (a gemv of 768x768 per row costs well under a millisecond).
void row_by_row(float* y, const float* x, ops::LinearWeights w, int B, Activation act) {
  if (!w.weight_s8) w.packed = nullptr;  // int8 needs its packed copy; its integer sums are exact
  for (int b = 0; b < B; ++b)
    ops::linear_forward(y + size_t(b) * w.out_features, x + size_t(b) * w.in_features, w, 1, act);
}

}  // namespace

void pooler_forward(float* pooled, float* cls_rows, const float* hidden, int B, int T, const BertConfig& c,
                    const BertWeights& w, ops::PackedWeights* packed, const QuantizedLinear& q) {
  BERT_CHECK(w.pooler_weight != nullptr || q);
  const int C = c.hidden_size;
  for (int b = 0; b < B; ++b) std::memcpy(cls_rows + size_t(b) * C, hidden + size_t(b) * T * C, C * sizeof(float));
  row_by_row(pooled, cls_rows, {w.pooler_weight, w.pooler_bias, C, C, packed, q.weight, q.scale}, B,
             Activation::ACT_TANH);
}

void pooler_backward(float* d_hidden, BertWeights& g, const float* d_pooled, const float* pooled,
                     const float* cls_rows, int B, int T, const BertConfig& c, const BertWeights& w) {
  const int C = c.hidden_size;
  // tanh'(x) = 1 - tanh(x)², from the saved output.
  std::vector<float> d_pre(size_t(B) * C), d_cls(size_t(B) * C, 0.f);
  for (size_t i = 0; i < d_pre.size(); ++i) d_pre[i] = d_pooled[i] * (1.f - pooled[i] * pooled[i]);
  ops::linear_backward(d_cls.data(), g.pooler_weight, g.pooler_bias, d_pre.data(), cls_rows,
                       {w.pooler_weight, nullptr, C, C}, B);
  for (int b = 0; b < B; ++b)
    for (int i = 0; i < C; ++i) d_hidden[size_t(b) * T * C + i] += d_cls[size_t(b) * C + i];
}

void linear_head_forward(float* logits, const float* rows, int R, const BertConfig& c, const BertWeights& w,
                         ops::PackedWeights* packed) {
  BERT_CHECK(w.head_weight != nullptr);
  row_by_row(logits, rows, {w.head_weight, w.head_bias, c.hidden_size, c.head_outputs(), packed}, R,
             Activation::ACT_NONE);
}

void linear_head_backward(float* d_rows, BertWeights& g, const float* d_logits, const float* rows, int R,
                          const BertConfig& c, const BertWeights& w) {
  ops::linear_backward(d_rows, g.head_weight, g.head_bias, d_logits, rows,
                       {w.head_weight, nullptr, c.hidden_size, c.head_outputs()}, R);
}

void mlm_head_forward(float* logits, const float* rows, int R, const BertConfig& c, const BertWeights& w,
                      ops::PackedWeights* packed, const QuantizedLinear& q) {
  BERT_CHECK(w.mlm_transform_weight != nullptr || q);
  const int C = c.hidden_size;
  std::vector<float> t(size_t(R) * C), n(size_t(R) * C);
  ops::linear_forward(t.data(), rows, {w.mlm_transform_weight, w.mlm_transform_bias, C, C, packed, q.weight, q.scale}, R,
                      c.hidden_act);
  ops::layernorm_forward(n.data(), nullptr, nullptr, t.data(), w.mlm_norm_weight, w.mlm_norm_bias, R, C,
                         c.layer_norm_eps);
  // The decoder's weight is the word-embedding table (tied), its bias cls.predictions.bias.
  ops::linear_forward(logits, n.data(), {w.word_embeddings, w.mlm_bias, C, c.vocab_size, packed}, R);
}

void pool_embeddings(float* out, const float* hidden, const uint8_t* mask, const float* pooled, int B, int T, int C,
                     Pooling pooling, bool normalize) {
  for (int b = 0; b < B; ++b) {
    float* o = out + size_t(b) * C;
    const float* h = hidden + size_t(b) * T * C;
    const uint8_t* m = mask + size_t(b) * T;
    switch (pooling) {
      case Pooling::POOLING_CLS: std::memcpy(o, h, C * sizeof(float)); break;
      case Pooling::POOLING_POOLER:
        BERT_CHECK(pooled != nullptr);
        std::memcpy(o, pooled + size_t(b) * C, C * sizeof(float));
        break;
      case Pooling::POOLING_MEAN: {
        // Sum in double so long texts do not lose the low bits, then divide by the token count.
        std::vector<double> sum(size_t(C), 0.0);
        int count = 0;
        for (int t = 0; t < T; ++t)
          if (m[t]) {
            ++count;
            for (int i = 0; i < C; ++i) sum[size_t(i)] += h[size_t(t) * C + i];
          }
        for (int i = 0; i < C; ++i) o[i] = count ? float(sum[size_t(i)] / count) : 0.f;
        break;
      }
      case Pooling::POOLING_MAX: {
        std::fill_n(o, C, std::numeric_limits<float>::lowest());
        for (int t = 0; t < T; ++t)
          if (m[t])
            for (int i = 0; i < C; ++i) o[i] = std::max(o[i], h[size_t(t) * C + i]);
        break;
      }
      case Pooling::POOLING_NONE: fail_usage("pooling 'none' gives per-token vectors, not one per text");
    }
    if (normalize) {
      double norm = 0;
      for (int i = 0; i < C; ++i) norm += double(o[i]) * o[i];
      // sentence-transformers' Normalize: x / max(‖x‖, 1e-12).
      const float scale = float(1.0 / std::max(std::sqrt(norm), 1e-12));
      for (int i = 0; i < C; ++i) o[i] *= scale;
    }
  }
}

}  // namespace bert::model
