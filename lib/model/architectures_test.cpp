// The architectures beyond the fixtures' three: a BertForPreTraining checkpoint (pooler, MLM head and
// next-sentence head, the decoder tied to the word embeddings), written as a Hugging Face directory
// and read back, gives the masked-LM fixture's predictions.
#include <doctest/doctest.h>

#include <filesystem>

#include "model/inference.hpp"
#include "model/init.hpp"
#include "model/model.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using bert::model::Task;

TEST_CASE("BertForPreTraining round-trips through a Hugging Face directory with the MLM fixture's outputs") {
  bert::test::TempDir tmp;
  const auto dir = bert::test::shared_path("fixtures/tiny-uncased-mlm");
  const bert::model::Model mlm = bert::model::load_model(dir.string());

  bert::model::BertConfig c = mlm.config;
  c.task = Task::TASK_PRETRAINING;
  c.has_pooler = true;
  bert::model::Model pre = bert::model::make_model(c, *mlm.tokenizer);
  bert::model::init_weights(pre.config, pre.weights, 3);
  // Copy every tensor the MLM model has (same names); the pooler and NSP head stay random.
  bert::model::BertWeights src = mlm.weights;
  std::vector<std::pair<std::string, float*>> have;
  bert::model::for_each_tensor(mlm.config, src, [&](const bert::model::TensorInfo& t, float*& p) {
    have.emplace_back(t.name, p);
  });
  size_t copied = 0;
  bert::model::for_each_tensor(pre.config, pre.weights, [&](const bert::model::TensorInfo& t, float*& p) {
    for (auto& [name, q] : have)
      if (name == t.name) {
        std::copy_n(q, t.numel(), p);
        ++copied;
      }
  });
  CHECK(copied == have.size());
  bert::model::save_model_hf(pre, (tmp / "pre").string());
  const bert::model::Model back = bert::model::load_model((tmp / "pre").string());
  CHECK(back.config.task == Task::TASK_PRETRAINING);
  CHECK(back.config.has_pooler);
  CHECK(back.weights.nsp_weight != nullptr);

  // Same masked-LM logits as the fixture model, bit for bit (same weights, same ops).
  bert::text::Encoding e = back.tokenizer->encode("The capital of France is [MASK].");
  bert::model::Inference a(mlm), b(back);
  a.run({&e});
  b.run({&e});
  const auto la = a.mlm_logits({{0, 6}}), lb = b.mlm_logits({{0, 6}});
  CHECK(bert::test::max_abs_diff(la, lb) == 0);
  CHECK(b.pooler_output().size() == size_t(c.hidden_size));
}

TEST_CASE("a classifier head on a masked-LM base keeps the encoder and adds a pooler") {
  const auto dir = bert::test::shared_path("fixtures/tiny-uncased-mlm");
  const bert::model::Model mlm = bert::model::load_model(dir.string());
  const bert::model::Model cls = bert::model::make_task_model(mlm, bert::model::Task::TASK_SEQUENCE_CLASSIFICATION, {"a", "b"}, 1);
  CHECK(cls.config.task == Task::TASK_SEQUENCE_CLASSIFICATION);
  CHECK(cls.config.num_labels() == 2);
  const size_t n = size_t(mlm.config.vocab_size) * mlm.config.hidden_size;
  CHECK(std::equal(cls.weights.word_embeddings, cls.weights.word_embeddings + n, mlm.weights.word_embeddings));
  // Fresh head: N(0, 0.02) weights, zero biases.
  CHECK(cls.weights.head_bias[0] == 0.f);
  CHECK(std::abs(cls.weights.head_weight[0]) < 0.2f);
}
