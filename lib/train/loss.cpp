#include "train/loss.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"        // fail_input
#include "model/bert_config.hpp"  // BertConfig

namespace bert::train {

double cross_entropy(std::span<float> d_logits, std::span<const float> logits, std::span<const int32_t> labels,
                     int L, std::span<const float> class_weights, float scale) {
  const size_t B = labels.size();
  double total = 0, weight_sum = 0;
  std::vector<double> p(static_cast<size_t>(L));
  for (size_t b = 0; b < B; ++b)
    if (labels[b] >= 0) weight_sum += class_weights.empty() ? 1.0 : class_weights[size_t(labels[b])];
  for (size_t b = 0; b < B; ++b) {
    if (labels[b] < 0) {  // ignored: no loss, no gradient
      std::fill_n(d_logits.data() + b * L, L, 0.f);
      continue;
    }
    const float* z = logits.data() + b * L;
    const double mx = *std::max_element(z, z + L);
    double sum = 0;
    for (int j = 0; j < L; ++j) sum += (p[size_t(j)] = std::exp(double(z[j]) - mx));
    const int y = labels[b];
    const double w = class_weights.empty() ? 1.0 : class_weights[size_t(y)];
    total += w * (std::log(sum) + mx - z[y]);
    for (int j = 0; j < L; ++j)
      d_logits[b * L + size_t(j)] = float((p[size_t(j)] / sum - (j == y ? 1.0 : 0.0)) * w / weight_sum * scale);
  }
  return weight_sum > 0 ? total / weight_sum : 0.0;
}

double binary_cross_entropy(std::span<float> d_logits, std::span<const float> logits, std::span<const float> targets,
                            float scale) {
  const size_t n = logits.size();
  double total = 0;
  for (size_t i = 0; i < n; ++i) {
    const double z = logits[i], y = targets[i];
    // log(1 + e^-|z|) + max(z, 0) - z·y: stable for large |z|.
    total += std::log1p(std::exp(-std::abs(z))) + std::max(z, 0.0) - z * y;
    const double s = 1.0 / (1.0 + std::exp(-z));
    d_logits[i] = float((s - y) / double(n) * scale);
  }
  return n ? total / double(n) : 0.0;
}

double task_loss(const model::BertConfig& c, std::span<float> d_logits, std::span<const float> logits, int B, int T,
                 std::span<const int32_t> labels, std::span<const float> class_weights, float scale) {
  const int N = c.head_outputs();
  if (c.task != model::Task::TASK_QUESTION_ANSWERING) {
    for (int32_t y : labels)
      if ((y < 0 && y != kIgnoreLabel) || y >= N) fail_input("label id {} is outside 0..{}", y, N - 1);
    return cross_entropy(d_logits, logits, labels, N, class_weights, scale);
  }
  std::vector<float> z(size_t(B) * T), dz(size_t(B) * T);
  std::vector<int32_t> y(static_cast<size_t>(B));
  double loss = 0;
  for (int which = 0; which < 2; ++which) {
    for (int b = 0; b < B; ++b) {
      const int32_t pos = labels[size_t(b) * 2 + size_t(which)];
      y[size_t(b)] = pos < 0 ? 0 : pos < T ? pos : kIgnoreLabel;
      for (int t = 0; t < T; ++t) z[size_t(b) * T + t] = logits[(size_t(b) * T + t) * 2 + size_t(which)];
    }
    loss += cross_entropy(dz, z, y, T, {}, scale * 0.5f) / 2;
    for (size_t i = 0; i < dz.size(); ++i) d_logits[i * 2 + size_t(which)] = dz[i];
  }
  return loss;
}

}  // namespace bert::train
