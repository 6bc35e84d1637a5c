// Fresh weights the way transformers' BertPreTrainedModel._init_weights makes them: Linear and
// Embedding weights from N(0, initializer_range²), biases 0, the padding row of the word embeddings
// 0, LayerNorm weight 1 and bias 0. Seeded and independent of the platform's <random>.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/bert_config.hpp"   // BertConfig
#include "model/bert_weights.hpp"  // BertWeights

namespace bert::model {

void init_weights(const BertConfig& config, BertWeights& weights, uint64_t seed);

// A reproducible stream of N(0, 1) samples (xoshiro256** + Box-Muller), also used for dropout-free
// reproducible shuffles and initialisation elsewhere.
class NormalRng {
 public:
  explicit NormalRng(uint64_t seed);
  double normal();
  uint64_t next();           // 64 random bits
  double uniform();          // [0, 1)

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace bert::model

namespace bert::model {

struct Model;

// A model for `task` (with `labels` when the task has labels) built on `base`: every tensor the base
// has (by name, with or without the "bert." prefix) is copied; the rest — the task's head, and the
// pooler when the task needs one the base lacks (masked-LM checkpoints) — is initialised as
// init_weights() would, from `seed`.
Model make_task_model(const Model& base, Task task, const std::vector<std::string>& labels, uint64_t seed);

}  // namespace bert::model
