#include "train/adamw.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace bert::train {

void adamw_update(std::span<float> p, std::span<float> m, std::span<float> v, std::span<const float> g,
                  const AdamWSettings& s, int64_t t, bool decay) {
  // PyTorch turns each Python-float factor into the tensor's float32 once.
  const float decay_factor = float(1.0 - s.lr * s.weight_decay);
  const float beta1 = float(s.beta1), one_minus_beta1 = float(1.0 - s.beta1);
  const float beta2 = float(s.beta2), one_minus_beta2 = float(1.0 - s.beta2);
  const double bias_correction1 = 1.0 - std::pow(s.beta1, double(t));
  const double bias_correction2 = 1.0 - std::pow(s.beta2, double(t));
  const float step_size = float(s.lr / bias_correction1);
  const float bias_correction2_sqrt = float(std::sqrt(bias_correction2));
  const float eps = float(s.eps);
  const float keep = decay ? decay_factor : 1.f;  // ×1 leaves every float as it is
  float *pp = p.data(), *mp = m.data(), *vp = v.data();
  const float* gp = g.data();
  // Element by element (vectorized: no branch in the loop), so any number of threads gives the same.
#pragma omp parallel for simd schedule(static) if (p.size() >= (size_t(1) << 15))
  for (size_t i = 0; i < p.size(); ++i) {
    pp[i] *= keep;
    mp[i] = mp[i] * beta1 + gp[i] * one_minus_beta1;
    vp[i] = vp[i] * beta2 + one_minus_beta2 * gp[i] * gp[i];
    const float denom = std::sqrt(vp[i]) / bias_correction2_sqrt + eps;
    pp[i] += (-step_size * mp[i]) / denom;  // addcdiv_: self + value · t1 / t2, left to right
  }
}

// Partial sums over fixed chunks, added in chunk order: the same norm from any number of threads.
// (One thread summing 110M squares was 1% of a BERT-base step, with the other thread idle.)
double global_norm(std::span<const std::span<float>> grads) {
  constexpr size_t kChunk = size_t(1) << 16;
  double sum = 0;
  for (std::span<float> g : grads) {
    const size_t chunks = (g.size() + kChunk - 1) / kChunk;
    std::vector<double> partial(chunks);
#pragma omp parallel for schedule(static) if (chunks > 1)
    for (size_t c = 0; c < chunks; ++c) {
      const float* x = g.data() + c * kChunk;
      const size_t n = std::min(kChunk, g.size() - c * kChunk);
      double s = 0;
#pragma omp simd reduction(+ : s)
      for (size_t i = 0; i < n; ++i) s += double(x[i]) * x[i];
      partial[c] = s;
    }
    for (double s : partial) sum += s;
  }
  return std::sqrt(sum);
}

void scale_gradients(std::span<const std::span<float>> grads, float factor) {
  for (std::span<float> g : grads) {
#pragma omp parallel for simd schedule(static) if (g.size() >= (size_t(1) << 15))
    for (size_t i = 0; i < g.size(); ++i) g[i] *= factor;
  }
}

double lr_factor(Schedule schedule, int64_t step, int64_t warmup, int64_t total) {
  if (step < warmup) return double(step) / double(std::max<int64_t>(1, warmup));
  if (schedule == Schedule::SCHEDULE_CONSTANT) return 1.0;
  return std::max(0.0, double(total - step) / double(std::max<int64_t>(1, total - warmup)));
}

}  // namespace bert::train
