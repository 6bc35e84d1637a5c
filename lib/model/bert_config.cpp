#include "model/bert_config.hpp"

#include <cmath>

#include <nlohmann/json.hpp>  // json

#include "core/error.hpp"  // fail_model
#include "core/json.hpp"   // try_parse_json (bounded nesting)

namespace bert::model {

using nlohmann::json;

const char* activation_name(ops::Activation a) {
  switch (a) {
    case ops::Activation::ACT_GELU_ERF: return "gelu";
    case ops::Activation::ACT_GELU_TANH: return "gelu_new";
    case ops::Activation::ACT_RELU: return "relu";
    case ops::Activation::ACT_TANH: return "tanh";
    case ops::Activation::ACT_NONE: return "linear";
  }
  return "?";
}

ops::Activation parse_activation(const std::string& name, const std::string& source) {
  // transformers' ACT2FN: "gelu" is the exact erf form; the tanh approximation goes by several names.
  if (name == "gelu" || name == "gelu_python") return ops::Activation::ACT_GELU_ERF;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast" || name == "gelu_accurate")
    return ops::Activation::ACT_GELU_TANH;
  if (name == "relu") return ops::Activation::ACT_RELU;
  if (name == "tanh") return ops::Activation::ACT_TANH;
  fail_model("{}: hidden_act '{}' is not supported (supported: gelu, gelu_new, relu)", source, name);
}

const char* pooling_name(Pooling p) {
  switch (p) {
    case Pooling::POOLING_CLS: return "cls";
    case Pooling::POOLING_MEAN: return "mean";
    case Pooling::POOLING_MAX: return "max";
    case Pooling::POOLING_POOLER: return "pooler";
    case Pooling::POOLING_NONE: return "none";
  }
  return "?";
}

Pooling parse_pooling(const std::string& name) {
  for (Pooling p : {Pooling::POOLING_CLS, Pooling::POOLING_MEAN, Pooling::POOLING_MAX, Pooling::POOLING_POOLER,
                    Pooling::POOLING_NONE})
    if (name == pooling_name(p)) return p;
  fail_usage("unknown pooling '{}' (cls, mean, max, pooler, none)", name);
}

namespace {

int get_int(const json& j, const char* key, const std::string& source, std::optional<int> fallback = {}) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (fallback) return *fallback;
    fail_model("{}: missing \"{}\"", source, key);
  }
  if (!it->is_number_integer()) fail_model("{}: \"{}\" must be an integer", source, key);
  // get<int> would wrap 2^40 + 30522 to 30522: range-check the 64-bit value first.
  const int64_t v = it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(INT64_MAX) ? INT64_MAX : it->get<int64_t>();
  if (v < INT32_MIN || v > INT32_MAX) fail_model("{}: \"{}\" is {}, out of range", source, key, it->dump());
  return int(v);
}

float get_float(const json& j, const char* key, const std::string& source, float fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_number()) fail_model("{}: \"{}\" must be a number", source, key);
  return it->get<float>();
}

Task parse_task(const json& j, const std::string& source) {
  std::string model_type = "bert";
  if (auto it = j.find("model_type"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) fail_model("{}: \"model_type\" must be a name, not {}", source, it->dump());
    model_type = it->get<std::string>();
  }
  if (model_type != "bert")
    fail_model("{}: model_type '{}' is not supported (only BERT: bertctl does not run {} models)", source,
               model_type, model_type);
  auto it = j.find("architectures");
  if (it == j.end() || it->is_null() || it->empty()) return Task::TASK_ENCODER;
  if (!it->is_array() || !(*it)[0].is_string()) fail_model("{}: \"architectures\" must be a list of names", source);
  const std::string name = (*it)[0].get<std::string>();
  if (const TaskSpec* s = find_task_by_class(name)) return s->task;
  fail_model("{}: architecture '{}' is not supported (supported: {})", source, name, task_class_list());
}

}  // namespace

BertConfig parse_hf_config(const std::string& text, const std::string& source) {
  json j;
  if (std::string err = try_parse_json(text, j); !err.empty()) fail_model("{}: malformed JSON: {}", source, err);
  if (!j.is_object()) fail_model("{}: expected a JSON object", source);
  BertConfig c;
  c.task = parse_task(j, source);
  c.vocab_size = get_int(j, "vocab_size", source);
  c.hidden_size = get_int(j, "hidden_size", source);
  c.num_hidden_layers = get_int(j, "num_hidden_layers", source);
  c.num_attention_heads = get_int(j, "num_attention_heads", source);
  c.intermediate_size = get_int(j, "intermediate_size", source);
  c.max_position_embeddings = get_int(j, "max_position_embeddings", source, 512);
  c.type_vocab_size = get_int(j, "type_vocab_size", source, 2);
  c.pad_token_id = get_int(j, "pad_token_id", source, 0);
  c.layer_norm_eps = get_float(j, "layer_norm_eps", source, 1e-12f);
  c.hidden_dropout_prob = get_float(j, "hidden_dropout_prob", source, 0.1f);
  c.attention_probs_dropout_prob = get_float(j, "attention_probs_dropout_prob", source, 0.1f);
  c.classifier_dropout = get_float(j, "classifier_dropout", source, -1.f);
  c.initializer_range = get_float(j, "initializer_range", source, 0.02f);
  if (auto it = j.find("hidden_act"); it != j.end()) {
    if (!it->is_string()) fail_model("{}: \"hidden_act\" must be a name", source);
    c.hidden_act = parse_activation(it->get<std::string>(), source);
  }
  if (auto it = j.find("position_embedding_type"); it != j.end() && it->is_string() && *it != "absolute")
    fail_model("{}: position_embedding_type '{}' is not supported (only 'absolute')", source,
               it->get<std::string>());
  if (auto it = j.find("problem_type"); it != j.end() && it->is_string())
    c.multi_label = it->get<std::string>() == "multi_label_classification";
  if (c.has_labels()) {
    auto it = j.find("id2label");
    int n = get_int(j, "num_labels", source, 2);
    if (it != j.end() && it->is_object()) n = int(std::min<size_t>(it->size(), INT32_MAX));
    // Checked before the label names are made (a claimed 10^8 labels took 16 GB).
    if (n < 1 || n > kMaxLabels)
      fail_model("{}: {} {} is not a number of labels (1 to {})", source,
                 it != j.end() && it->is_object() ? "id2label's size" : "num_labels", n, kMaxLabels);
    c.labels.resize(size_t(n));
    for (int i = 0; i < n; ++i) c.labels[size_t(i)] = "LABEL_" + std::to_string(i);
    if (it != j.end() && it->is_object())
      for (auto& [k, v] : it->items()) {
        size_t pos = 0;
        int id = -1;
        try {
          id = std::stoi(k, &pos);
        } catch (...) {
        }
        if (pos != k.size() || id < 0 || id >= n || !v.is_string())
          fail_model("{}: id2label entry \"{}\" is not an id in 0..{} with a label name", source, k, n - 1);
        c.labels[size_t(id)] = v.get<std::string>();
      }
  }
  // BertForMaskedLM and the token heads have no pooler in transformers; the loader turns it on if
  // the weights are there.
  c.has_pooler = c.spec().pooler;
  c.validate(source);
  return c;
}

void BertConfig::validate(const std::string& source) const {
  auto positive = [&](int v, const char* name) {
    if (v <= 0) fail_model("{}: {} must be positive (got {})", source, name, v);
  };
  positive(vocab_size, "vocab_size");
  positive(hidden_size, "hidden_size");
  positive(num_hidden_layers, "num_hidden_layers");
  positive(num_attention_heads, "num_attention_heads");
  positive(intermediate_size, "intermediate_size");
  positive(max_position_embeddings, "max_position_embeddings");
  positive(type_vocab_size, "type_vocab_size");
  if (hidden_size % num_attention_heads != 0)
    fail_model("{}: hidden_size {} is not a multiple of num_attention_heads {}", source, hidden_size,
               num_attention_heads);
  if (pad_token_id < 0 || pad_token_id >= vocab_size)
    fail_model("{}: pad_token_id {} is outside the vocabulary (size {})", source, pad_token_id, vocab_size);
  if (has_labels() && labels.empty()) fail_model("{}: a classifier needs at least one label", source);
  if (labels.size() > size_t(kMaxLabels)) fail_model("{}: {} labels is more than {}", source, labels.size(), kMaxLabels);
  if (!std::isfinite(layer_norm_eps) || layer_norm_eps < 0.f)
    fail_model("{}: layer_norm_eps must be a finite number >= 0 (got {})", source, layer_norm_eps);
  for (float p : {hidden_dropout_prob, attention_probs_dropout_prob})
    if (!(p >= 0.f && p < 1.f)) fail_model("{}: dropout probabilities must be in [0, 1)", source);
  // Sizes so large that tensor byte counts overflow are corrupt files, not models.
  if (int64_t(vocab_size) * hidden_size > (int64_t(1) << 34) || num_hidden_layers > 1000 ||
      int64_t(intermediate_size) * hidden_size > (int64_t(1) << 34))
    fail_model("{}: implausibly large sizes", source);
}

namespace {

// A float as the decimal it was written from (0.1f -> 0.1, not 0.10000000149011612).
double shortest(float v) { return std::stod(fmt::format("{}", v)); }

}  // namespace

std::string to_hf_config_json(const BertConfig& c) {
  json j;
  j["architectures"] = {c.hf_class()};
  j["model_type"] = "bert";
  j["vocab_size"] = c.vocab_size;
  j["hidden_size"] = c.hidden_size;
  j["num_hidden_layers"] = c.num_hidden_layers;
  j["num_attention_heads"] = c.num_attention_heads;
  j["intermediate_size"] = c.intermediate_size;
  j["hidden_act"] = activation_name(c.hidden_act);
  j["hidden_dropout_prob"] = shortest(c.hidden_dropout_prob);
  j["attention_probs_dropout_prob"] = shortest(c.attention_probs_dropout_prob);
  j["classifier_dropout"] = c.classifier_dropout >= 0 ? json(shortest(c.classifier_dropout)) : json(nullptr);
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["type_vocab_size"] = c.type_vocab_size;
  j["initializer_range"] = shortest(c.initializer_range);
  j["layer_norm_eps"] = shortest(c.layer_norm_eps);
  j["pad_token_id"] = c.pad_token_id;
  j["position_embedding_type"] = "absolute";
  j["torch_dtype"] = "float32";
  if (c.has_labels()) {
    json id2label = json::object(), label2id = json::object();
    for (size_t i = 0; i < c.labels.size(); ++i) {
      id2label[std::to_string(i)] = c.labels[i];
      label2id[c.labels[i]] = int(i);
    }
    j["id2label"] = id2label;
    j["label2id"] = label2id;
    if (c.multi_label) j["problem_type"] = "multi_label_classification";
  }
  return j.dump(2) + "\n";
}

}  // namespace bert::model
