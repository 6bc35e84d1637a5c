#include "model/inference.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.hpp"  // fail_model
#include "model/heads.hpp"

namespace bert::model {

Inference::Inference(const Model& model)
    : model_(model), encoder_(model.config, model.weights, false, &model.quantized) {}

const float* Inference::run(const std::vector<const text::Encoding*>& batch,
                            const std::function<void(int, const float*)>& on_hidden_state) {
  return run(make_encoder_input(batch, model_.config.pad_token_id), on_hidden_state);
}

const float* Inference::run(const EncoderInput& input, const std::function<void(int, const float*)>& on_hidden_state) {
  input_ = input;
  ForwardOptions opt;
  opt.on_hidden_state = on_hidden_state;
  hidden_ = encoder_.forward(input_, opt);
  return hidden_;
}

std::vector<float> Inference::pooler_output() {
  if (!model_.config.has_pooler) fail_model("{}: this model has no pooler", model_.source);
  const int C = model_.config.hidden_size;
  std::vector<float> pooled(size_t(input_.B) * C), cls(size_t(input_.B) * C);
  pooler_forward(pooled.data(), cls.data(), hidden_, input_.B, input_.T, model_.config, model_.weights,
                 encoder_.packed_weights(), model_.quantized.pooler);
  return pooled;
}

std::vector<float> Inference::embeddings(Pooling pooling, bool normalize) {
  const int C = model_.config.hidden_size;
  std::vector<float> pooled;
  if (pooling == Pooling::POOLING_POOLER) pooled = pooler_output();
  std::vector<float> out(size_t(input_.B) * C);
  pool_embeddings(out.data(), hidden_, input_.attention_mask.data(), pooled.empty() ? nullptr : pooled.data(),
                  input_.B, input_.T, C, pooling, normalize);
  return out;
}

std::vector<float> Inference::classifier_logits() {
  if (!model_.config.has_classifier())
    fail_model("{}: {} has no classification head", model_.source, model_.config.hf_class());
  std::vector<float> pooled = pooler_output();
  std::vector<float> logits(size_t(input_.B) * model_.config.num_labels());
  linear_head_forward(logits.data(), pooled.data(), input_.B, model_.config, model_.weights, encoder_.packed_weights());
  return logits;
}

std::vector<float> Inference::token_logits() {
  const BertConfig& c = model_.config;
  if (c.spec().head_input != HeadInput::HEAD_INPUT_TOKENS)
    fail_model("{}: {} has no per-token head (token classification or question answering)", model_.source,
               c.hf_class());
  const int rows = input_.B * input_.T;
  std::vector<float> logits(size_t(rows) * c.head_outputs());
  linear_head_forward(logits.data(), hidden_, rows, c, model_.weights, encoder_.packed_weights());
  return logits;
}

std::vector<float> Inference::mlm_logits(const std::vector<std::pair<int, int>>& positions) {
  if (!model_.config.has_mlm_head())
    fail_model("{}: {} has no masked-language-model head", model_.source,
               model_.config.hf_class());
  const int C = model_.config.hidden_size, R = int(positions.size());
  std::vector<float> rows(size_t(R) * C), logits(size_t(R) * model_.config.vocab_size);
  for (int r = 0; r < R; ++r) {
    auto [b, t] = positions[size_t(r)];
    std::copy_n(hidden_ + (size_t(b) * input_.T + t) * C, C, rows.data() + size_t(r) * C);
  }
  if (R > 0)
    mlm_head_forward(logits.data(), rows.data(), R, model_.config, model_.weights, encoder_.packed_weights(),
                     model_.quantized.mlm_transform);
  return logits;
}

std::vector<std::vector<float>> Inference::token_logits_of(const std::vector<const text::Encoding*>& encodings,
                                                           int batch_size) {
  const int N = model_.config.head_outputs();
  std::vector<std::vector<float>> out(encodings.size());
  for (size_t from = 0; from < encodings.size(); from += size_t(std::max(batch_size, 1))) {
    const size_t to = std::min(encodings.size(), from + size_t(std::max(batch_size, 1)));
    run(std::vector<const text::Encoding*>(encodings.begin() + long(from), encodings.begin() + long(to)));
    const std::vector<float> logits = token_logits();
    for (size_t i = from; i < to; ++i) {
      const size_t row = (i - from) * size_t(input_.T) * N;
      out[i].assign(logits.begin() + long(row), logits.begin() + long(row + encodings[i]->ids.size() * N));
    }
  }
  return out;
}

double log_sum_exp(std::span<const float> v) {
  if (v.empty()) return -INFINITY;
  const double mx = *std::max_element(v.begin(), v.end());
  double sum = 0;
  for (float x : v) sum += std::exp(double(x) - mx);
  return mx + std::log(sum);
}

void softmax_inplace(std::span<float> v) {
  const double lse = log_sum_exp(v);
  for (float& x : v) x = float(std::exp(double(x) - lse));
}

void sigmoid_inplace(std::span<float> v) {
  for (float& x : v) x = float(1.0 / (1.0 + std::exp(-double(x))));
}

std::vector<int> top_k(std::span<const float> v, int k) {
  k = std::clamp(k, 0, int(v.size()));
  std::vector<int> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int a, int b) {
    return v[size_t(a)] > v[size_t(b)] || (v[size_t(a)] == v[size_t(b)] && a < b);
  });
  idx.resize(size_t(k));
  return idx;
}

}  // namespace bert::model
