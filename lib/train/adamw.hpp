// AdamW exactly as torch.optim.AdamW (PyTorch 1.13, single-tensor path): decoupled weight decay
// p ← p·(1 − lr·wd), then m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², and
// p ← p − (lr / (1−β1^t)) · m / (sqrt(v) / sqrt(1−β2^t) + eps), in float32 with the scalar
// factors computed in double and rounded once, as PyTorch does. Plus gradient clipping by global
// norm (torch.nn.utils.clip_grad_norm_) and the learning-rate schedules of transformers.
#pragma once
#include <cstdint>
#include <span>

namespace bert::train {

struct AdamWSettings {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;
};

// One update of one tensor at step t (1-based); `decay` false skips the weight decay.
void adamw_update(std::span<float> param, std::span<float> m, std::span<float> v, std::span<const float> grad,
                  const AdamWSettings& s, int64_t t, bool decay);

// Scales every gradient by max_norm / (norm + 1e-6) when the global L2 norm exceeds max_norm;
// returns the norm before clipping. `tensors` are visited through the callback (each span once).
double global_norm(std::span<const std::span<float>> grads);
void scale_gradients(std::span<const std::span<float>> grads, float factor);

enum class Schedule { SCHEDULE_LINEAR, SCHEDULE_CONSTANT };

// transformers' get_linear_schedule_with_warmup / get_constant_schedule_with_warmup: the factor
// for optimizer step `step` (0-based, the step about to be taken).
double lr_factor(Schedule schedule, int64_t step, int64_t warmup_steps, int64_t total_steps);

}  // namespace bert::train
