#include "train/loss.hpp"

#include <algorithm>
#include <cmath>

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

}  // namespace bert::train
