// The training oracle of ../shared/fixtures/train: loss, every parameter gradient, and the
// parameters after three AdamW steps, against PyTorch at the README's tolerances (loss ≤ 1e-5,
// gradients ≤ 5e-6 per tensor, parameters ≤ 5e-6 except the noise-dominated key biases ≤ 3e-3).
#include <doctest/doctest.h>

#include "io/safetensors.hpp"
#include "model/inference.hpp"
#include "model/model.hpp"
#include "train/loss.hpp"
#include "train/trainer.hpp"
#include "test_support.hpp"
#include "train/train_oracle_support.hpp"

using bert::test::max_abs_diff;
using nlohmann::json;

using bert::test::oracle_settings;

namespace {

void compare_all(const bert::model::Model& model, bert::model::BertWeights weights, const std::string& file,
                 double tol, double key_bias_tol, const char* what) {
  bert::test::compare_with_reference(model, weights, file, tol, key_bias_tol, {}, what);
}

}  // namespace

TEST_CASE("loss, gradients and three AdamW steps match PyTorch") {
  const auto dir = bert::test::shared_path("fixtures/tiny-uncased-cls");
  const auto train = bert::test::shared_path("fixtures/train");
  const json t = bert::test::read_json(train / "train_batch.json");
  bert::model::Model model = bert::model::load_model(dir.string(), {.writable = true});
  bert::train::Trainer trainer(model, oracle_settings(t));
  const bert::model::EncoderInput batch = bert::test::batch_from_json(t);
  const std::vector<int32_t> labels = t["labels"].get<std::vector<int32_t>>();

  std::vector<float> logits;
  const double loss0 = trainer.accumulate(batch, labels, 1.f, &logits);
  CHECK(std::abs(loss0 - t["loss_step0"].get<double>()) <= 1e-5);
  CHECK(max_abs_diff(logits, bert::test::to_floats(t["logits_step0"]), 1e-4, "logits") <= 1e-4);
  compare_all(model, trainer.gradients(), (train / "grads.safetensors").string(), 5e-6, 1e-6, "gradients");

  const auto& losses = t["losses_before_each_step"];
  for (int step = 0; step < 3; ++step) {
    if (step > 0) {
      const double loss = trainer.accumulate(batch, labels, 1.f);
      CHECK(std::abs(loss - losses[size_t(step)].get<double>()) <= 1e-5);
    }
    trainer.step();
  }
  compare_all(model, model.weights, (train / "after_3_adamw_steps.safetensors").string(), 5e-6, 3e-3,
              "parameters after 3 steps");
  const double loss3 = bert::train::Trainer(model, oracle_settings(t)).accumulate(batch, labels, 1.f);
  CHECK(std::abs(loss3 - t["loss_after_3_steps"].get<double>()) <= 1e-5);
}

TEST_CASE("cross-entropy gradient agrees with central differences, with class weights") {
  const std::vector<float> logits = {0.3f, -1.2f, 2.0f, 0.5f, 0.1f, -0.4f};
  const std::vector<int32_t> labels = {2, 0};
  const std::vector<float> weights = {2.f, 1.f, 0.5f};
  std::vector<float> d(6), scratch(6);
  bert::train::cross_entropy(d, logits, labels, 3, weights);
  for (size_t i = 0; i < logits.size(); ++i) {
    std::vector<float> lp = logits, lm = logits;
    const float h = 1e-2f;
    lp[i] += h;
    lm[i] -= h;
    const double num = (bert::train::cross_entropy(scratch, lp, labels, 3, weights) -
                        bert::train::cross_entropy(scratch, lm, labels, 3, weights)) / (2 * h);
    CHECK(std::abs(num - d[i]) < 1e-4);
  }
}

namespace {

// Every parameter as one flat vector, in table order.
std::vector<float> flatten(const bert::model::Model& m) {
  std::vector<float> out;
  bert::model::BertWeights w = m.weights;
  bert::model::for_each_tensor(m.config, w, [&](const bert::model::TensorInfo& t, float*& p) {
    out.insert(out.end(), p, p + t.numel());
  });
  return out;
}

// Which tensors changed between two flat snapshots.
std::vector<std::string> changed(const bert::model::Model& m, const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<std::string> names;
  size_t at = 0;
  for (const bert::model::TensorInfo& t : bert::model::tensor_table(m.config)) {
    if (!std::equal(a.begin() + at, a.begin() + at + t.numel(), b.begin() + at)) names.push_back(t.name);
    at += size_t(t.numel());
  }
  return names;
}

}  // namespace

TEST_CASE("--freeze-encoder trains only the head; --train-layers 1 the top layer, pooler and head") {
  const auto dir = bert::test::shared_path("fixtures/tiny-uncased-cls");
  const json t = bert::test::read_json(bert::test::shared_path("fixtures/train") / "train_batch.json");
  const std::vector<int32_t> labels = t["labels"].get<std::vector<int32_t>>();
  for (int mode = 0; mode < 2; ++mode) {
    bert::model::Model model = bert::model::load_model(dir.string(), {.writable = true});
    bert::train::TrainerSettings s = oracle_settings(t);
    if (mode == 0)
      s.freeze_encoder = true;
    else
      s.train_layers = 1;
    bert::train::Trainer trainer(model, s);
    const std::vector<float> before = flatten(model);
    trainer.accumulate(bert::test::batch_from_json(t), labels, 1.f);
    trainer.step();
    for (const std::string& name : changed(model, before, flatten(model))) {
      INFO(name);
      if (mode == 0)
        CHECK(name.starts_with("classifier."));
      else
        CHECK((name.starts_with("classifier.") || name.starts_with("bert.pooler.") ||
               name.starts_with("bert.encoder.layer.1.")));
    }
    CHECK(!changed(model, before, flatten(model)).empty());
  }
}

TEST_CASE("two accumulated micro-batches of 2 give the gradients of one batch of 4") {
  const auto dir = bert::test::shared_path("fixtures/tiny-uncased-cls");
  const json t = bert::test::read_json(bert::test::shared_path("fixtures/train") / "train_batch.json");
  const bert::model::EncoderInput all = bert::test::batch_from_json(t);
  const std::vector<int32_t> labels = t["labels"].get<std::vector<int32_t>>();
  auto half = [&](int first) {
    bert::model::EncoderInput h;
    h.B = 2;
    h.T = all.T;
    const size_t from = size_t(first) * all.T, to = size_t(first + 2) * all.T;
    h.input_ids.assign(all.input_ids.begin() + long(from), all.input_ids.begin() + long(to));
    h.token_type_ids.assign(all.token_type_ids.begin() + long(from), all.token_type_ids.begin() + long(to));
    h.attention_mask.assign(all.attention_mask.begin() + long(from), all.attention_mask.begin() + long(to));
    return h;
  };
  bert::model::Model a = bert::model::load_model(dir.string(), {.writable = true});
  bert::model::Model b = bert::model::load_model(dir.string(), {.writable = true});
  bert::train::Trainer ta(a, oracle_settings(t)), tb(b, oracle_settings(t));
  ta.accumulate(all, labels, 1.f);
  tb.accumulate(half(0), std::vector<int32_t>(labels.begin(), labels.begin() + 2), 0.5f);
  tb.accumulate(half(2), std::vector<int32_t>(labels.begin() + 2, labels.end()), 0.5f);
  bert::model::BertWeights ga = ta.gradients(), gb = tb.gradients();
  std::vector<float> fa, fb;
  bert::model::for_each_tensor(a.config, ga, [&](const bert::model::TensorInfo& i, float*& p) { fa.insert(fa.end(), p, p + i.numel()); });
  bert::model::for_each_tensor(b.config, gb, [&](const bert::model::TensorInfo& i, float*& p) { fb.insert(fb.end(), p, p + i.numel()); });
  CHECK(max_abs_diff(fa, fb, 1e-6, "accumulated gradients") <= 1e-6);
}

// Evaluation (and --keep-best) must see what `classify` computes: no dropout outside a training step.
TEST_CASE("predict() on a model with dropout gives the inference logits, before and after a training step") {
  const auto dir = bert::test::shared_path("fixtures/tiny-uncased-cls");
  const json t = bert::test::read_json(bert::test::shared_path("fixtures/train") / "train_batch.json");
  const bert::model::EncoderInput batch = bert::test::batch_from_json(t);
  const std::vector<int32_t> labels = t["labels"].get<std::vector<int32_t>>();
  bert::model::Model model = bert::model::load_model(dir.string(), {.writable = true});
  model.config.hidden_dropout_prob = model.config.attention_probs_dropout_prob = 0.1f;
  model.config.classifier_dropout = 0.1f;
  bert::train::Trainer trainer(model, oracle_settings(t));
  auto inference_logits = [&] {
    bert::model::Inference inference(model);
    inference.run(batch);
    return inference.classifier_logits();
  };
  CHECK(max_abs_diff(trainer.predict(batch), inference_logits(), 1e-5, "predict before training") <= 1e-5);
  trainer.accumulate(batch, labels, 1.f);  // a training forward leaves its dropout masks behind
  trainer.step();
  CHECK(max_abs_diff(trainer.predict(batch), inference_logits(), 1e-5, "predict after a step") <= 1e-5);
}
