#include "train/trainer.hpp"

#include <algorithm>
#include <cstring>

#include "core/error.hpp"    // fail_model, BERT_CHECK
#include "model/heads.hpp"   // pooler, classifier
#include "train/loss.hpp"    // cross_entropy

namespace bert::train {

using model::BertWeights;
using model::TensorInfo;

namespace {

uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t x = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull + (a << 6) + (a >> 2));
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

Trainer::Trainer(model::Model& model, TrainerSettings settings)
    : model_(model),
      settings_(std::move(settings)),
      g_storage_(model.config, g_),
      m_storage_(model.config, m_),
      v_storage_(model.config, v_),
      encoder_(model.config, model.weights, true) {
  const model::BertConfig& c = model_.config;
  if (!c.spec().linear_head)
    fail_model("{}: {} has no task head to fine-tune (sequence or token classification, question answering)",
               model_.source, c.hf_class());
  if (c.spec().head_input == model::HeadInput::HEAD_INPUT_POOLED && !c.has_pooler)
    fail_model("{}: the classifier reads the pooler, which this model lacks", model_.source);
  if (c.multi_label) fail_model("{}: multi-label fine-tuning is not supported yet", model_.source);
  if (settings_.freeze_encoder)
    encoder_.set_first_trainable_layer(c.num_hidden_layers);
  else if (settings_.train_layers >= 0)
    encoder_.set_first_trainable_layer(std::max(0, c.num_hidden_layers - settings_.train_layers));
}

bool Trainer::trainable(const std::string& name) const {
  if (name.starts_with(std::string(model_.config.spec().linear_head) + ".")) return true;
  if (settings_.freeze_encoder) return false;
  if (settings_.train_layers < 0) return true;
  if (name.find("pooler.") != std::string::npos) return true;
  const std::string marker = "encoder.layer.";
  const size_t at = name.find(marker);
  if (at == std::string::npos) return false;  // embeddings
  const int layer = std::stoi(name.substr(at + marker.size()));
  return layer >= model_.config.num_hidden_layers - settings_.train_layers;
}

const float* Trainer::forward_head_input(const model::EncoderInput& batch, bool training, uint64_t dropout_seed) {
  const model::BertConfig& c = model_.config;
  model::ForwardOptions opt;
  opt.training = training;
  opt.dropout_seed = dropout_seed;
  const float* hidden = encoder_.forward(batch, opt);
  const float* rows = hidden;
  if (c.spec().head_input == model::HeadInput::HEAD_INPUT_POOLED) {
    const size_t BC = size_t(batch.B) * c.hidden_size;
    cls_rows_.resize(BC);
    pooled_.resize(BC);
    model::pooler_forward(pooled_.data(), cls_rows_.data(), hidden, batch.B, batch.T, c, model_.weights, nullptr);
    rows = pooled_.data();
  }
  const float p = c.effective_classifier_dropout();
  if (!training || !c.spec().head_dropout || p <= 0.f) return rows;
  // BertFor{Sequence,Token}Classification: dropout on the head's input.
  const size_t n = size_t(head_rows(batch)) * c.hidden_size;
  head_dropout_.resize(n);
  head_input_dropped_.resize(n);
  const uint64_t base = mix(dropout_seed, 0xc1a551f1e5ull);
  for (size_t i = 0; i < n; ++i) {
    const double u = double(mix(base, i) >> 11) * 0x1.0p-53;
    head_dropout_[i] = u < p ? 0.f : 1.f / (1.f - p);
    head_input_dropped_[i] = rows[i] * head_dropout_[i];
  }
  return head_input_dropped_.data();
}

int Trainer::head_rows(const model::EncoderInput& batch) const {
  return model_.config.spec().head_input == model::HeadInput::HEAD_INPUT_POOLED ? batch.B : batch.B * batch.T;
}

size_t Trainer::label_count(const model::EncoderInput& batch) const {
  switch (model_.config.task) {
    case model::Task::TASK_TOKEN_CLASSIFICATION: return size_t(batch.B) * batch.T;
    case model::Task::TASK_QUESTION_ANSWERING: return size_t(batch.B) * 2;
    default: return size_t(batch.B);
  }
}

double Trainer::accumulate(const model::EncoderInput& batch, std::span<const int32_t> labels, float loss_scale,
                           std::vector<float>* logits_out) {
  const model::BertConfig& c = model_.config;
  const int C = c.hidden_size, N = c.head_outputs(), R = head_rows(batch);
  BERT_CHECK(labels.size() == label_count(batch));
  const uint64_t seed = mix(mix(settings_.seed, uint64_t(step_)), uint64_t(micro_batch_++));
  const float* rows = forward_head_input(batch, true, seed);
  std::vector<float> logits(size_t(R) * N), d_logits(size_t(R) * N);
  model::linear_head_forward(logits.data(), rows, R, c, model_.weights, nullptr);
  const double loss = train::task_loss(c, d_logits, logits, batch.B, batch.T, labels, settings_.class_weights, loss_scale);

  std::vector<float> d_rows(size_t(R) * C, 0.f);
  model::linear_head_backward(d_rows.data(), g_, d_logits.data(), rows, R, c, model_.weights);
  if (!settings_.freeze_encoder) {
    if (!head_dropout_.empty() && rows == head_input_dropped_.data())
      for (size_t i = 0; i < d_rows.size(); ++i) d_rows[i] *= head_dropout_[i];
    if (c.spec().head_input == model::HeadInput::HEAD_INPUT_POOLED) {
      std::vector<float> d_hidden(size_t(batch.B) * batch.T * C, 0.f);
      model::pooler_backward(d_hidden.data(), g_, d_rows.data(), pooled_.data(), cls_rows_.data(), batch.B, batch.T,
                             c, model_.weights);
      encoder_.backward(d_hidden.data(), g_);
    } else {
      encoder_.backward(d_rows.data(), g_);
    }
    touched_ids_.insert(touched_ids_.end(), batch.input_ids.begin(), batch.input_ids.end());
  }
  if (logits_out) *logits_out = std::move(logits);
  return loss;
}

double Trainer::current_lr() const {
  return settings_.adamw.lr *
         lr_factor(settings_.schedule, step_, settings_.warmup_steps, settings_.total_steps);
}

double Trainer::step() {
  const model::BertConfig& c = model_.config;
  // The trainable tensors of params, grads and both moments, walked in lockstep.
  struct Slot {
    const TensorInfo* info;
    float *p, *g, *m, *v;
  };
  std::vector<TensorInfo> table = model::tensor_table(c);
  std::vector<Slot> slots;
  BertWeights params = model_.weights;
  std::vector<float*> ps, gs, ms, vs;
  auto collect = [](std::vector<float*>& out) {
    return [&out](const TensorInfo&, float*& p) { out.push_back(p); };
  };
  model::for_each_tensor(c, params, collect(ps));
  model::for_each_tensor(c, g_, collect(gs));
  model::for_each_tensor(c, m_, collect(ms));
  model::for_each_tensor(c, v_, collect(vs));
  std::vector<std::span<float>> grads;
  for (size_t i = 0; i < table.size(); ++i) {
    if (!trainable(table[i].name)) continue;
    slots.push_back({&table[i], ps[i], gs[i], ms[i], vs[i]});
    grads.emplace_back(gs[i], size_t(table[i].numel()));
  }
  const double norm = global_norm(grads);
  if (settings_.max_grad_norm > 0) {
    const double coef = settings_.max_grad_norm / (norm + 1e-6);  // clip_grad_norm_
    if (coef < 1.0) scale_gradients(grads, float(coef));
  }
  AdamWSettings s = settings_.adamw;
  s.lr = current_lr();
  ++step_;
  for (const Slot& slot : slots) {
    const size_t n = size_t(slot.info->numel());
    const bool decay = settings_.decay_norm_and_bias || (slot.info->role != model::TensorRole::ROLE_BIAS &&
                                                         slot.info->role != model::TensorRole::ROLE_NORM);
    adamw_update({slot.p, n}, {slot.m, n}, {slot.v, n}, {slot.g, n}, s, step_, decay);
    // Zero the gradient; of the word-embedding table only the rows this step touched.
    if (slot.g == g_.word_embeddings) {
      std::sort(touched_ids_.begin(), touched_ids_.end());
      touched_ids_.erase(std::unique(touched_ids_.begin(), touched_ids_.end()), touched_ids_.end());
      for (int32_t id : touched_ids_) std::fill_n(slot.g + size_t(id) * c.hidden_size, c.hidden_size, 0.f);
    } else {
      std::fill_n(slot.g, n, 0.f);
    }
  }
  touched_ids_.clear();
  micro_batch_ = 0;
  return norm;
}

std::vector<float> Trainer::predict(const model::EncoderInput& batch) {
  const float* rows = forward_head_input(batch, false, 0);
  const int R = head_rows(batch);
  std::vector<float> logits(size_t(R) * model_.config.head_outputs());
  model::linear_head_forward(logits.data(), rows, R, model_.config, model_.weights, nullptr);
  return logits;
}

double Trainer::evaluate(const model::EncoderInput& batch, std::span<const int32_t> labels, std::vector<float>* logits) {
  BERT_CHECK(labels.size() == label_count(batch));
  std::vector<float> z = predict(batch), dz(z.size());
  const double loss = train::task_loss(model_.config, dz, z, batch.B, batch.T, labels, settings_.class_weights);
  if (logits) *logits = std::move(z);
  return loss;
}

}  // namespace bert::train
