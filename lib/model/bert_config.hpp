// BertConfig: the hyperparameters of a BERT model, as in Hugging Face's config.json, plus the
// head it carries and the embedding defaults (pooling, normalisation) stored with a model.
//
//   bert::model::BertConfig c = bert::model::parse_hf_config(json_text, "dir/config.json");
//   c.head_dim();  // hidden_size / num_attention_heads
#pragma once
#include <string>
#include <vector>

#include "model/task.hpp"  // Task, TaskSpec
#include "ops/ops.hpp"        // ops::Activation

namespace bert::model {

enum class Pooling { POOLING_CLS, POOLING_MEAN, POOLING_MAX, POOLING_POOLER, POOLING_NONE };

// More labels than any classifier has: a config claiming more is corrupt (and would cost gigabytes).
inline constexpr int kMaxLabels = 1 << 20;

struct BertConfig {
  Task task = Task::TASK_ENCODER;
  int vocab_size = 0;
  int hidden_size = 0;                 // C
  int num_hidden_layers = 0;           // L
  int num_attention_heads = 0;         // H
  int intermediate_size = 0;           // I
  int max_position_embeddings = 512;
  int type_vocab_size = 2;
  ops::Activation hidden_act = ops::Activation::ACT_GELU_ERF;
  float layer_norm_eps = 1e-12f;
  int pad_token_id = 0;
  float hidden_dropout_prob = 0.1f;
  float attention_probs_dropout_prob = 0.1f;
  float classifier_dropout = -1.f;     // < 0: use hidden_dropout_prob (as HF does for null)
  float initializer_range = 0.02f;
  bool has_pooler = true;              // BertForMaskedLM checkpoints usually have none
  std::vector<std::string> labels;     // id2label, by id (sequence and token classifiers)
  bool multi_label = false;            // problem_type "multi_label_classification": sigmoid per label
  // Embedding defaults for `bertctl encode` (a sentence-transformers model sets them at convert time).
  Pooling pooling = Pooling::POOLING_MEAN;
  bool normalize = false;

  int head_dim() const { return hidden_size / num_attention_heads; }
  int num_labels() const { return int(labels.size()); }
  const TaskSpec& spec() const { return task_spec(task); }
  const char* hf_class() const { return spec().hf_class; }
  bool has_mlm_head() const { return spec().mlm_head; }
  bool has_nsp_head() const { return spec().nsp_head; }
  bool has_classifier() const { return task == Task::TASK_SEQUENCE_CLASSIFICATION; }
  // The task names its outputs with id2label (sequence and token classification).
  bool has_labels() const { return spec().linear_head != nullptr && spec().fixed_outputs == 0; }
  // Width of the linear head (labels, or 2 for QA's start and end); 0 without one.
  int head_outputs() const {
    return spec().linear_head == nullptr ? 0 : spec().fixed_outputs ? spec().fixed_outputs : num_labels();
  }
  float effective_classifier_dropout() const {
    return classifier_dropout >= 0 ? classifier_dropout : hidden_dropout_prob;
  }

  // Throws ERROR_MODEL naming `source` when sizes are missing, inconsistent or out of range.
  void validate(const std::string& source) const;
};

// Parses a Hugging Face config.json. Refuses other model types (RoBERTa, DistilBERT, ...) and
// architectures by name; `source` names the file in messages.
BertConfig parse_hf_config(const std::string& json_text, const std::string& source);

// The config.json transformers expects for this model.
std::string to_hf_config_json(const BertConfig& config);

const char* activation_name(ops::Activation a);  // "gelu", "gelu_new", "relu", ...
ops::Activation parse_activation(const std::string& name, const std::string& source);
const char* pooling_name(Pooling p);
Pooling parse_pooling(const std::string& name);  // throws ERROR_USAGE for an unknown name

}  // namespace bert::model
