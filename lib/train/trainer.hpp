// Trainer: fine-tunes a model with a task head (model/task.hpp: sequence or token classification,
// question answering). One call runs forward and backward over a micro-batch and accumulates gradients; step() clips them, applies AdamW with the learning-rate schedule and
// zeroes them. Gradients and the two Adam moments are BertWeights in the parameters' layout.
//
//   Trainer t(model, settings);                     // model loaded with LoadOptions{.writable = true}
//   double loss = t.accumulate(batch, labels, 1.f);  // as many micro-batches as --grad-accum
//   t.step();
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "model/encoder.hpp"  // Encoder, EncoderInput
#include "model/model.hpp"    // Model
#include "train/adamw.hpp"    // AdamWSettings, Schedule
#include "train/loss.hpp"     // kIgnoreLabel, task_loss

namespace bert::train {

struct TrainerSettings {
  AdamWSettings adamw;               // adamw.lr is the peak learning rate
  bool decay_norm_and_bias = false;  // false: biases and LayerNorm weights get no weight decay
  double max_grad_norm = 1.0;        // <= 0: no clipping
  Schedule schedule = Schedule::SCHEDULE_LINEAR;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;
  std::vector<float> class_weights;  // empty: all 1
  bool freeze_encoder = false;       // train only the classifier
  int train_layers = -1;             // >= 0: train only the top N encoder layers (+ pooler, classifier)
  uint64_t seed = 42;                // dropout masks derive from (seed, step, micro-batch)
};

class Trainer {
 public:
  Trainer(model::Model& model, TrainerSettings settings);

  // Forward + backward for one micro-batch; gradients are scaled by `loss_scale` (1 / gradient-
  // accumulation steps) and accumulate. Labels: sequence classification (B); token classification
  // (B,T) with kIgnoreLabel where no loss is taken; question answering (B,2) start and end token.
  // Returns the unscaled mean loss; fills `logits` (the head's rows × outputs) when given.
  double accumulate(const model::EncoderInput& batch, std::span<const int32_t> labels, float loss_scale,
                    std::vector<float>* logits = nullptr);

  // Clips, updates with AdamW at the scheduled learning rate, zeroes the gradients. Returns the
  // gradient norm before clipping.
  double step();

  // The head's logits without dropout and without touching gradients: (B,labels), (B,T,labels) or
  // (B,T,2).
  std::vector<float> predict(const model::EncoderInput& batch);
  // The mean loss of a batch without dropout and without gradients; fills `logits` when given.
  double evaluate(const model::EncoderInput& batch, std::span<const int32_t> labels, std::vector<float>* logits = nullptr);

  int64_t steps_done() const { return step_; }
  void set_steps_done(int64_t step) { step_ = step; }
  double current_lr() const;
  const TrainerSettings& settings() const { return settings_; }
  const model::Model& model() const { return model_; }

  // Optimizer state, for checkpoints.
  model::BertWeights& first_moment() { return m_; }
  model::BertWeights& second_moment() { return v_; }
  model::BertWeights& gradients() { return g_; }

 private:
  bool trainable(const std::string& tensor_name) const;
  // Runs the encoder and returns what the linear head reads: pooled rows or every token, after the
  // head's dropout when training.
  const float* forward_head_input(const model::EncoderInput& batch, bool training, uint64_t dropout_seed);
  int head_rows(const model::EncoderInput& batch) const;
  size_t label_count(const model::EncoderInput& batch) const;

  model::Model& model_;
  TrainerSettings settings_;
  model::BertWeights g_, m_, v_;
  model::WeightStorage g_storage_, m_storage_, v_storage_;
  model::Encoder encoder_;
  int64_t step_ = 0;
  int64_t micro_batch_ = 0;  // within the current step, for dropout seeds
  std::vector<int32_t> touched_ids_;  // word-embedding rows with gradient, zeroed after the step
  // Saved for the head's backward pass.
  std::vector<float> cls_rows_, pooled_, head_input_dropped_, head_dropout_;
};

}  // namespace bert::train
