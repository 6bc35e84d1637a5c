// The task training oracles of ../shared/fixtures/tasks (train-ner, train-qa): loss, logits, every
// gradient and the parameters after three AdamW steps, against transformers at its README's
// tolerances (loss ≤ 1e-5, logits ≤ 1e-4, gradients and parameters ≤ 5e-6; noise-dominated tensors
// |g| < 1e-6 and within 3·lr after the steps).
#include <doctest/doctest.h>

#include "model/model.hpp"
#include "test_support.hpp"
#include "train/train_oracle_support.hpp"
#include "train/loss.hpp"
#include "train/trainer.hpp"

using bert::test::max_abs_diff;
using nlohmann::json;

namespace {

// Runs the oracle: step-0 loss and logits, gradients, three steps, the loss after them.
void check_oracle(const char* model_dir, const char* train_dir, const std::vector<int32_t>& labels,
                  const std::vector<float>& want_logits) {
  const auto dir = bert::test::shared_path(std::string("fixtures/tasks/") + model_dir);
  const auto train = bert::test::shared_path(std::string("fixtures/tasks/") + train_dir);
  const json t = bert::test::read_json(train / "train_batch.json");
  bert::model::Model model = bert::model::load_model(dir.string(), {.writable = true});
  const auto settings = bert::test::oracle_settings(t);
  const auto noise = bert::test::noise_dominated(t);
  const double lr = settings.adamw.lr;
  bert::train::Trainer trainer(model, settings);
  const bert::model::EncoderInput batch = bert::test::batch_from_json(t);

  std::vector<float> logits;
  const double loss0 = trainer.accumulate(batch, labels, 1.f, &logits);
  CHECK(std::abs(loss0 - t["loss_step0"].get<double>()) <= 1e-5);
  CHECK(max_abs_diff(logits, want_logits, 1e-4, "logits") <= 1e-4);
  bert::test::compare_with_reference(model, trainer.gradients(), (train / "grads.safetensors").string(), 5e-6, 1e-6,
                                     noise, "gradients");
  const auto& losses = t["losses_before_each_step"];
  for (int step = 0; step < 3; ++step) {
    if (step > 0) CHECK(std::abs(trainer.accumulate(batch, labels, 1.f) - losses[size_t(step)].get<double>()) <= 1e-5);
    trainer.step();
  }
  bert::test::compare_with_reference(model, model.weights, (train / "after_3_adamw_steps.safetensors").string(), 5e-6,
                                     3 * lr, noise, "parameters after 3 steps");
  const double loss3 = bert::train::Trainer(model, settings).accumulate(batch, labels, 1.f);
  CHECK(std::abs(loss3 - t["loss_after_3_steps"].get<double>()) <= 1e-5);
}

std::vector<int32_t> flat_ints(const json& rows) {
  std::vector<int32_t> out;
  for (const auto& r : rows)
    for (const auto& v : r) out.push_back(v.get<int32_t>());
  return out;
}

}  // namespace

TEST_CASE("token classification: loss, gradients and three AdamW steps match transformers") {
  const json t = bert::test::read_json(bert::test::shared_path("fixtures/tasks/train-ner") / "train_batch.json");
  check_oracle("tiny-uncased-ner", "train-ner", flat_ints(t["labels"]), bert::test::to_floats(t["logits_step0"]));
}

TEST_CASE("question answering: loss, gradients and three AdamW steps match transformers") {
  const json t = bert::test::read_json(bert::test::shared_path("fixtures/tasks/train-qa") / "train_batch.json");
  std::vector<int32_t> labels;
  std::vector<float> logits;
  const std::vector<float> start = bert::test::to_floats(t["start_logits_step0"]);
  const std::vector<float> end = bert::test::to_floats(t["end_logits_step0"]);
  for (size_t b = 0; b < t["start_positions"].size(); ++b) {
    labels.push_back(t["start_positions"][b].get<int32_t>());
    labels.push_back(t["end_positions"][b].get<int32_t>());
  }
  for (size_t i = 0; i < start.size(); ++i) logits.insert(logits.end(), {start[i], end[i]});
  check_oracle("tiny-uncased-qa", "train-qa", labels, logits);
}

TEST_CASE("cross-entropy skips ignored rows: no loss, no gradient, mean over the rest") {
  const std::vector<float> logits = {0.3f, -1.2f, 2.0f, 0.5f, 0.1f, -0.4f};
  std::vector<float> d_both(6), d_one(6), d_alone(3);
  const double both = bert::train::cross_entropy(d_both, logits, std::vector<int32_t>{2, bert::train::kIgnoreLabel}, 3);
  const double alone = bert::train::cross_entropy(d_alone, std::span(logits).first(3), std::vector<int32_t>{2}, 3);
  CHECK(both == doctest::Approx(alone));
  for (int j = 0; j < 3; ++j) {
    CHECK(d_both[size_t(j)] == doctest::Approx(d_alone[size_t(j)]));
    CHECK(d_both[size_t(3 + j)] == 0.f);
  }
}
