#include "model/bert_weights.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/error.hpp"  // BERT_CHECK

namespace bert::model {

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string name_prefix(Task task) { return task == Task::TASK_ENCODER ? "" : "bert."; }

void for_each_tensor(const BertConfig& c, BertWeights& w, const TensorVisitor& visit) {
  const int64_t C = c.hidden_size, I = c.intermediate_size, V = c.vocab_size;
  const std::string p = name_prefix(c.task);
  auto t = [&](const std::string& name, std::vector<int64_t> shape, TensorRole role, float*& slot) {
    visit(TensorInfo{name, std::move(shape), role}, slot);
  };
  using R = TensorRole;
  t(p + "embeddings.word_embeddings.weight", {V, C}, R::ROLE_EMBEDDING, w.word_embeddings);
  t(p + "embeddings.position_embeddings.weight", {c.max_position_embeddings, C}, R::ROLE_EMBEDDING,
    w.position_embeddings);
  t(p + "embeddings.token_type_embeddings.weight", {c.type_vocab_size, C}, R::ROLE_EMBEDDING,
    w.token_type_embeddings);
  t(p + "embeddings.LayerNorm.weight", {C}, R::ROLE_NORM, w.embeddings_norm_weight);
  t(p + "embeddings.LayerNorm.bias", {C}, R::ROLE_NORM, w.embeddings_norm_bias);
  w.layers.resize(size_t(c.num_hidden_layers));
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    LayerWeights& lw = w.layers[size_t(l)];
    const std::string n = p + "encoder.layer." + std::to_string(l) + ".";
    t(n + "attention.self.query.weight", {C, C}, R::ROLE_WEIGHT, lw.query_weight);
    t(n + "attention.self.key.weight", {C, C}, R::ROLE_WEIGHT, lw.key_weight);
    t(n + "attention.self.value.weight", {C, C}, R::ROLE_WEIGHT, lw.value_weight);
    t(n + "attention.self.query.bias", {C}, R::ROLE_BIAS, lw.query_bias);
    t(n + "attention.self.key.bias", {C}, R::ROLE_BIAS, lw.key_bias);
    t(n + "attention.self.value.bias", {C}, R::ROLE_BIAS, lw.value_bias);
    t(n + "attention.output.dense.weight", {C, C}, R::ROLE_WEIGHT, lw.attention_output_weight);
    t(n + "attention.output.dense.bias", {C}, R::ROLE_BIAS, lw.attention_output_bias);
    t(n + "attention.output.LayerNorm.weight", {C}, R::ROLE_NORM, lw.attention_norm_weight);
    t(n + "attention.output.LayerNorm.bias", {C}, R::ROLE_NORM, lw.attention_norm_bias);
    t(n + "intermediate.dense.weight", {I, C}, R::ROLE_WEIGHT, lw.intermediate_weight);
    t(n + "intermediate.dense.bias", {I}, R::ROLE_BIAS, lw.intermediate_bias);
    t(n + "output.dense.weight", {C, I}, R::ROLE_WEIGHT, lw.output_weight);
    t(n + "output.dense.bias", {C}, R::ROLE_BIAS, lw.output_bias);
    t(n + "output.LayerNorm.weight", {C}, R::ROLE_NORM, lw.output_norm_weight);
    t(n + "output.LayerNorm.bias", {C}, R::ROLE_NORM, lw.output_norm_bias);
  }
  if (c.has_pooler) {
    t(p + "pooler.dense.weight", {C, C}, R::ROLE_WEIGHT, w.pooler_weight);
    t(p + "pooler.dense.bias", {C}, R::ROLE_BIAS, w.pooler_bias);
  }
  if (c.has_mlm_head()) {
    t("cls.predictions.transform.dense.weight", {C, C}, R::ROLE_WEIGHT, w.mlm_transform_weight);
    t("cls.predictions.transform.dense.bias", {C}, R::ROLE_BIAS, w.mlm_transform_bias);
    t("cls.predictions.transform.LayerNorm.weight", {C}, R::ROLE_NORM, w.mlm_norm_weight);
    t("cls.predictions.transform.LayerNorm.bias", {C}, R::ROLE_NORM, w.mlm_norm_bias);
    t("cls.predictions.bias", {V}, R::ROLE_BIAS, w.mlm_bias);
  }
  if (c.has_nsp_head()) {
    t("cls.seq_relationship.weight", {2, C}, R::ROLE_WEIGHT, w.nsp_weight);
    t("cls.seq_relationship.bias", {2}, R::ROLE_BIAS, w.nsp_bias);
  }
  if (const char* head = c.spec().linear_head) {
    t(std::string(head) + ".weight", {c.head_outputs(), C}, R::ROLE_WEIGHT, w.head_weight);
    t(std::string(head) + ".bias", {c.head_outputs()}, R::ROLE_BIAS, w.head_bias);
  }
}

std::vector<TensorInfo> tensor_table(const BertConfig& config) {
  std::vector<TensorInfo> out;
  BertWeights scratch;
  for_each_tensor(config, scratch, [&](const TensorInfo& t, float*&) { out.push_back(t); });
  return out;
}

int64_t parameter_count(const BertConfig& config) {
  int64_t n = 0;
  for (const TensorInfo& t : tensor_table(config)) n += t.numel();
  return n;
}

namespace {

// key/value weights and biases follow their query tensor with no padding: the fused QKV view.
bool follows_query(const std::string& name) {
  return name.ends_with("attention.self.key.weight") || name.ends_with("attention.self.value.weight") ||
         name.ends_with("attention.self.key.bias") || name.ends_with("attention.self.value.bias");
}

constexpr size_t kAlignFloats = 16;  // 64 bytes: a cache line, and what oneDNN likes

size_t align_up(size_t n) { return (n + kAlignFloats - 1) / kAlignFloats * kAlignFloats; }

}  // namespace

void WeightStorage::FreeDeleter::operator()(float* p) const { std::free(p); }

bool quantizable(const std::string& name, int64_t rank) {
  return rank == 2 && name.ends_with(".weight") && name.find("embeddings") == std::string::npos &&
         !name.starts_with("classifier.") && !name.starts_with("qa_outputs.") &&
         !name.starts_with("cls.seq_relationship.");
}

WeightStorage::WeightStorage(const BertConfig& config, BertWeights& weights, bool zeroed) {
  size_t total = 0;
  std::vector<size_t> offsets;
  for (const TensorInfo& t : tensor_table(config)) {
    if (!follows_query(t.name)) total = align_up(total);
    offsets.push_back(total);
    total += size_t(t.numel());
  }
  size_ = align_up(total);
  void* p = std::aligned_alloc(kAlignFloats * sizeof(float), std::max<size_t>(size_, kAlignFloats) * sizeof(float));
  if (!p) throw std::bad_alloc();
  data_.reset(static_cast<float*>(p));
  if (zeroed) zero();
  size_t i = 0;
  for_each_tensor(config, weights, [&](const TensorInfo&, float*& slot) { slot = data_.get() + offsets[i++]; });
  for (const LayerWeights& l : weights.layers) {
    BERT_CHECK(l.key_weight == l.query_weight + int64_t(config.hidden_size) * config.hidden_size);
    BERT_CHECK(l.value_bias == l.query_bias + 2 * config.hidden_size);
  }
}

std::string first_non_finite_tensor(const BertConfig& config, const BertWeights& weights) {
  BertWeights w = weights;
  std::string found;
  for_each_tensor(config, w, [&](const TensorInfo& t, float*& slot) {
    if (!found.empty() || !slot) return;
    bool finite = true;
    for (int64_t i = 0, n = t.numel(); i < n; ++i) finite &= std::isfinite(slot[i]);  // no branch: vectorizes
    if (!finite) found = t.name;
  });
  return found;
}

void WeightStorage::zero() {
  if (data_) std::memset(data_.get(), 0, size_ * sizeof(float));
}

}  // namespace bert::model
