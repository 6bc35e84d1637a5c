// BertWeights: pointers to every tensor of a BERT model, one field per Hugging Face parameter.
// The same type holds parameters, gradients and the two AdamW moments (llm.c's ParameterTensors);
// for_each_tensor() walks the table of names and shapes that drives loading, saving, zeroing and
// updating, so no tensor is ever listed twice.
//
//   BertWeights params;  WeightStorage storage = allocate_weights(config, params);   // zeroed
//   for_each_tensor(config, params, [](const TensorInfo& t, float* p) { ... t.name, t.numel() ... });
//
// Invariant: within a layer the query, key and value weights are adjacent in memory (and so are
// their biases), so query_weight is also the fused (3C, C) QKV projection.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/bert_config.hpp"  // BertConfig

namespace bert::model {

struct LayerWeights {
  float* query_weight = nullptr;  // (C, C)  attention.self.query.weight; key, value follow
  float* key_weight = nullptr;    // (C, C)
  float* value_weight = nullptr;  // (C, C)
  float* query_bias = nullptr;    // (C)      key, value biases follow
  float* key_bias = nullptr;
  float* value_bias = nullptr;
  float* attention_output_weight = nullptr;  // (C, C)  attention.output.dense
  float* attention_output_bias = nullptr;    // (C)
  float* attention_norm_weight = nullptr;    // (C)     attention.output.LayerNorm
  float* attention_norm_bias = nullptr;
  float* intermediate_weight = nullptr;      // (I, C)  intermediate.dense
  float* intermediate_bias = nullptr;        // (I)
  float* output_weight = nullptr;            // (C, I)  output.dense
  float* output_bias = nullptr;              // (C)
  float* output_norm_weight = nullptr;       // (C)     output.LayerNorm
  float* output_norm_bias = nullptr;
};

struct BertWeights {
  float* word_embeddings = nullptr;        // (V, C)
  float* position_embeddings = nullptr;    // (P, C)
  float* token_type_embeddings = nullptr;  // (2, C)
  float* embeddings_norm_weight = nullptr; // (C)
  float* embeddings_norm_bias = nullptr;
  std::vector<LayerWeights> layers;
  float* pooler_weight = nullptr;          // (C, C)  pooler.dense
  float* pooler_bias = nullptr;
  float* mlm_transform_weight = nullptr;   // (C, C)  cls.predictions.transform.dense
  float* mlm_transform_bias = nullptr;
  float* mlm_norm_weight = nullptr;        // (C)     cls.predictions.transform.LayerNorm
  float* mlm_norm_bias = nullptr;
  float* mlm_bias = nullptr;               // (V)     cls.predictions.bias (decoder: word_embeddings)
  float* nsp_weight = nullptr;             // (2, C)  cls.seq_relationship
  float* nsp_bias = nullptr;
  // The task's linear head (TaskSpec::linear_head: "classifier" or "qa_outputs").
  float* head_weight = nullptr;            // (outputs, C)
  float* head_bias = nullptr;              // (outputs)
};

// The int8 linear layers of a model loaded from an int8 model file (inference only): W[n][k] ≈
// scale[n]·weight[n][k]. A layer whose `weight` is null runs in float from BertWeights.
struct QuantizedLinear {
  const int8_t* weight = nullptr;  // (N, K)
  const float* scale = nullptr;    // (N)
  explicit operator bool() const { return weight != nullptr; }
};

struct QuantizedWeights {
  struct Layer {
    QuantizedLinear qkv;  // (3C, C): query, key, value adjacent as in BertWeights
    QuantizedLinear attention_output, intermediate, output;
  };
  std::vector<Layer> layers;  // empty: a float model
  QuantizedLinear pooler, mlm_transform;
  bool empty() const { return layers.empty(); }
};

// Whether a tensor is stored as int8 in an int8 model file: the weights of linear layers, except
// the tiny task heads (classifier, next-sentence) whose few parameters decide every label.
bool quantizable(const std::string& tensor_name, int64_t rank);

enum class TensorRole { ROLE_WEIGHT, ROLE_BIAS, ROLE_NORM, ROLE_EMBEDDING };

struct TensorInfo {
  std::string name;             // Hugging Face state-dict key for this architecture
  std::vector<int64_t> shape;   // PyTorch order
  TensorRole role;              // biases and LayerNorm parameters are exempt from weight decay
  int64_t numel() const;
};

// Every tensor of the model in canonical order (embeddings, layers, pooler, heads), with its slot.
using TensorVisitor = std::function<void(const TensorInfo&, float*&)>;
void for_each_tensor(const BertConfig& config, BertWeights& weights, const TensorVisitor& visit);
std::vector<TensorInfo> tensor_table(const BertConfig& config);

// The first tensor holding a NaN or an infinity, or "" when every (float) weight is finite. Slots
// that are null (int8 layers run as int8) are skipped.
std::string first_non_finite_tensor(const BertConfig& config, const BertWeights& weights);

// "bert." for the task models, "" for BertModel (what transformers' state dicts use).
std::string name_prefix(Task task);

// One zero-initialised buffer holding every tensor of `weights` in table order, each aligned to
// 64 bytes (so the QKV adjacency invariant holds whenever C·4 is a multiple of 64; otherwise the
// three tensors are packed without padding).
class WeightStorage {
 public:
  WeightStorage() = default;
  // `zeroed` false leaves the memory untouched (and unpaged) for a loader that fills what it needs.
  WeightStorage(const BertConfig& config, BertWeights& weights, bool zeroed = true);
  float* data() { return data_.get(); }
  size_t size() const { return size_; }  // floats
  void zero();

 private:
  struct FreeDeleter {
    void operator()(float* p) const;
  };
  std::unique_ptr<float, FreeDeleter> data_;
  size_t size_ = 0;
};

int64_t parameter_count(const BertConfig& config);

}  // namespace bert::model
