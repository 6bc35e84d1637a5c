// Losses on classifier logits, with their gradients: mean cross-entropy (optionally class-weighted,
// as torch.nn.CrossEntropyLoss(weight=...): Σ w_y·nll / Σ w_y) for single-label models, and mean
// binary cross-entropy with logits for multi-label ones.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace bert::train {

// logits (B,L), labels (B) in [0,L), or negative for a row that takes no loss (torch's
// ignore_index; the mean is over the other rows). Writes d_logits (B,L) = ∂loss/∂logits · scale and
// returns the loss. class_weights empty = all 1.
double cross_entropy(std::span<float> d_logits, std::span<const float> logits, std::span<const int32_t> labels,
                     int L, std::span<const float> class_weights = {}, float scale = 1.f);

// logits (B,L), targets (B,L) in {0,1}: mean over B·L of BCE-with-logits.
double binary_cross_entropy(std::span<float> d_logits, std::span<const float> logits,
                            std::span<const float> targets, float scale = 1.f);

}  // namespace bert::train
