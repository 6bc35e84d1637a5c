// Losses on classifier logits, with their gradients: mean cross-entropy (optionally class-weighted,
// as torch.nn.CrossEntropyLoss(weight=...): Σ w_y·nll / Σ w_y) for single-label models, and mean
// binary cross-entropy with logits for multi-label ones.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace bert::model {
struct BertConfig;
}

namespace bert::train {

// A label that takes no loss (torch's ignore_index): special tokens and later sub-words in token
// classification.
inline constexpr int32_t kIgnoreLabel = -100;

// logits (B,L), labels (B) in [0,L), or negative for a row that takes no loss (torch's
// ignore_index; the mean is over the other rows). Writes d_logits (B,L) = ∂loss/∂logits · scale and
// returns the loss. class_weights empty = all 1.
double cross_entropy(std::span<float> d_logits, std::span<const float> logits, std::span<const int32_t> labels,
                     int L, std::span<const float> class_weights = {}, float scale = 1.f);

// logits (B,L), targets (B,L) in {0,1}: mean over B·L of BCE-with-logits.
double binary_cross_entropy(std::span<float> d_logits, std::span<const float> logits,
                            std::span<const float> targets, float scale = 1.f);

// The loss of a task's head (model/task.hpp) for a padded batch of B sequences of T tokens, with its
// gradient (d_logits, scaled by `scale`). Labels and logits as Trainer::accumulate has them:
// sequence classification (B) and (B,L); token classification (B,T) with kIgnoreLabel and (B,T,L);
// question answering (B,2) start/end and (B,T,2): (CE(start) + CE(end)) / 2 over all T positions,
// positions clamped to [0, T] and T ignored, as BertForQuestionAnswering computes it.
double task_loss(const model::BertConfig& config, std::span<float> d_logits, std::span<const float> logits, int B,
                 int T, std::span<const int32_t> labels, std::span<const float> class_weights = {}, float scale = 1.f);

}  // namespace bert::train
