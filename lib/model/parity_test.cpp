// The forward pass against what transformers 4.36.2 computed for the fixture checkpoints
// (../shared/fixtures/reference/<model>.json), at the tolerances of fixtures/README.md:
// hidden states, pooled and mean embeddings ≤ 1e-4; classifier logits ≤ 1e-4, probabilities ≤ 1e-5;
// MLM top-5 ids exact, logits and log-sum-exp ≤ 2e-4, probabilities ≤ 1e-6; a padded batch the same.
// Each model runs twice: loaded from its Hugging Face directory, and from our converted GGUF file.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "core/file.hpp"
#include "model/inference.hpp"
#include "model/model.hpp"
#include "ops/ops.hpp"  // calls_until_steady
#include "test_support.hpp"

using bert::test::max_abs_diff;
using bert::test::to_floats;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

bert::model::EncoderInput input_of(const json& c) {
  bert::model::EncoderInput in;
  in.input_ids = c["input_ids"].get<std::vector<int32_t>>();
  in.token_type_ids = c["token_type_ids"].get<std::vector<int32_t>>();
  in.attention_mask.assign(in.input_ids.size(), 1);
  in.B = 1;
  in.T = int(in.input_ids.size());
  return in;
}

struct Worst {
  double hidden = 0, layers = 0, pooled = 0, mean = 0, logits = 0, probs = 0, mlm_logit = 0, mlm_prob = 0, lse = 0;
};

// Compares one text's outputs (row b of the last run) with the reference case `c`.
void check_case(bert::model::Inference& inf, const json& c, int b, const std::string& what, Worst& worst,
                const std::vector<std::vector<float>>* layers) {
  const auto& cfg = inf.model().config;
  const int C = cfg.hidden_size, T = inf.input().T;
  const int n = int(c["last_hidden_state"].size());
  INFO(what);
  std::vector<float> hidden(inf.hidden() + size_t(b) * T * C, inf.hidden() + (size_t(b) * T + n) * C);
  double d = max_abs_diff(hidden, to_floats(c["last_hidden_state"]), 1e-4, what + " last_hidden_state");
  CHECK(d <= 1e-4);
  worst.hidden = std::max(worst.hidden, d);
  if (layers && c.contains("hidden_states")) {
    for (size_t l = 0; l < c["hidden_states"].size(); ++l) {
      double dl = max_abs_diff((*layers)[l], to_floats(c["hidden_states"][l]), 1e-4, what + " hidden_states");
      CHECK(dl <= 1e-4);
      worst.layers = std::max(worst.layers, dl);
    }
  }
  auto row = [&](const std::vector<float>& all, int width) {
    return std::vector<float>(all.begin() + size_t(b) * width, all.begin() + size_t(b + 1) * width);
  };
  const std::vector<float> mean = inf.embeddings(bert::model::Pooling::POOLING_MEAN, false);
  d = max_abs_diff(row(mean, C), to_floats(c["mean_pooled"]), 1e-4, what + " mean_pooled");
  CHECK(d <= 1e-4);
  worst.mean = std::max(worst.mean, d);
  if (c.contains("pooler_output")) {
    d = max_abs_diff(row(inf.pooler_output(), C), to_floats(c["pooler_output"]), 1e-4, what + " pooler_output");
    CHECK(d <= 1e-4);
    worst.pooled = std::max(worst.pooled, d);
  }
  if (c.contains("logits")) {
    const int L = cfg.num_labels();
    std::vector<float> logits = row(inf.classifier_logits(), L);
    d = max_abs_diff(logits, to_floats(c["logits"]), 1e-4, what + " logits");
    CHECK(d <= 1e-4);
    worst.logits = std::max(worst.logits, d);
    bert::model::softmax_inplace(logits);
    d = max_abs_diff(logits, to_floats(c["probs"]), 1e-5, what + " probs");
    CHECK(d <= 1e-5);
    worst.probs = std::max(worst.probs, d);
    CHECK(cfg.labels[size_t(bert::model::top_k(logits, 1)[0])] == c["predicted_label"].get<std::string>());
  }
  if (c.contains("mlm_argmax_ids")) {
    const int V = cfg.vocab_size;
    std::vector<std::pair<int, int>> positions;
    for (int t = 0; t < n; ++t) positions.emplace_back(b, t);
    const std::vector<float> logits = inf.mlm_logits(positions);
    for (int t = 0; t < n; ++t) {
      std::span<const float> r(logits.data() + size_t(t) * V, size_t(V));
      const double lse = bert::model::log_sum_exp(r);
      const double dl = std::abs(lse - c["mlm_logsumexp"][size_t(t)].get<double>());
      CHECK(dl <= 2e-4);
      worst.lse = std::max(worst.lse, dl);
      if (c["mlm_top2_gap"][size_t(t)].get<double>() > 1e-3)
        CHECK(bert::model::top_k(r, 1)[0] == c["mlm_argmax_ids"][size_t(t)].get<int>());
    }
    for (const json& mp : c["mask_predictions"]) {
      const int t = mp["position"].get<int>();
      std::span<const float> r(logits.data() + size_t(t) * V, size_t(V));
      const double lse = bert::model::log_sum_exp(r);
      const std::vector<int> top = bert::model::top_k(r, 5);
      for (size_t k = 0; k < 5; ++k) {
        const json& want = mp["top5"][k];
        CHECK(top[k] == want["id"].get<int>());
        const double dlogit = std::abs(r[size_t(top[k])] - want["logit"].get<double>());
        const double dprob = std::abs(std::exp(r[size_t(top[k])] - lse) - want["prob"].get<double>());
        CHECK(dlogit <= 2e-4);
        CHECK(dprob <= 1e-6);
        worst.mlm_logit = std::max(worst.mlm_logit, dlogit);
        worst.mlm_prob = std::max(worst.mlm_prob, dprob);
      }
    }
  }
}

// `packed`: first run the padded batch until the weights are packed (ops::calls_until_steady), so the
// cases run on the layout and primitives (a 1x1 convolution below AVX-512) a stream of batches uses.
void check_model(const bert::model::Model& model, const json& ref, const std::string& label, bool packed = false) {
  bert::model::Inference inf(model);
  if (packed) {
    const bert::model::EncoderInput warm = bert::test::batch_from_json(ref["batch"]);
    for (int i = 0; i < bert::ops::calls_until_steady(warm.B * warm.T); ++i) inf.run(warm);
  }
  Worst worst;
  int checked = 0;
  for (const json& c : ref["cases"]) {
    std::vector<std::vector<float>> layers;
    const int C = model.config.hidden_size;
    inf.run(input_of(c), [&](int, const float* h) {
      layers.emplace_back(h, h + c["input_ids"].size() * size_t(C));
    });
    check_case(inf, c, 0, label + " text " + std::to_string(c["index"].get<int>()), worst, &layers);
    ++checked;
  }
  for (const json& p : ref["pairs"]) {
    inf.run(input_of(p));
    check_case(inf, p, 0, label + " pair " + std::to_string(p["index"].get<int>()), worst, nullptr);
    ++checked;
  }
  // The padded batch (its real tokens packed inside the encoder): every row, and every layer's hidden
  // state of it, must equal its unbatched reference.
  const json& batch = ref["batch"];
  const bert::model::EncoderInput in = bert::test::batch_from_json(batch);
  const size_t C = size_t(model.config.hidden_size), T = size_t(in.T);
  std::vector<std::vector<float>> batch_layers;
  inf.run(in, [&](int, const float* h) { batch_layers.emplace_back(h, h + size_t(in.B) * T * C); });
  for (int b = 0; b < in.B; ++b) {
    json row = batch["rows"][size_t(b)];
    const json& unbatched = ref["cases"][batch["text_indices"][size_t(b)].get<size_t>()];
    for (const char* k : {"logits", "probs", "predicted_label", "pooler_output", "hidden_states"})
      if (unbatched.contains(k) && !row.contains(k)) row[k] = unbatched[k];
    const size_t n = row["last_hidden_state"].size();
    std::vector<std::vector<float>> layers;
    for (const std::vector<float>& h : batch_layers)
      layers.emplace_back(h.begin() + long(size_t(b) * T * C), h.begin() + long((size_t(b) * T + n) * C));
    check_case(inf, row, b, label + " batch row " + std::to_string(b), worst, &layers);
    ++checked;
  }
  MESSAGE(label << ": " << checked << " inputs; max abs diff hidden " << worst.hidden << ", hidden_states "
                << worst.layers << ", mean " << worst.mean << ", pooler " << worst.pooled << ", logits "
                << worst.logits << ", probs " << worst.probs << ", MLM top-5 logits " << worst.mlm_logit
                << ", probs " << worst.mlm_prob << ", logsumexp " << worst.lse);
}

void check_fixture(const std::string& name) {
  const fs::path dir = bert::test::shared_path("fixtures/" + name);
  const json ref = bert::test::read_json(bert::test::shared_path("fixtures/reference/" + name + ".json"));
  SUBCASE("from the Hugging Face directory") {
    bert::model::Model m = bert::model::load_model(dir.string());
    check_model(m, ref, name + " (hf)");
  }
  SUBCASE("with its weights packed") {
    bert::model::Model m = bert::model::load_model(dir.string());
    check_model(m, ref, name + " (packed)", true);
  }
  SUBCASE("from the converted model file") {
    const fs::path out = fs::temp_directory_path() / ("bertctl-parity-" + name + ".gguf");
    fs::remove(out);
    {
      bert::model::Model m = bert::model::load_model(dir.string());
      bert::model::save_model_gguf(m, out.string());
    }
    bert::model::Model g = bert::model::load_model(out.string());
    CHECK(g.mapping != nullptr);  // f32 weights are used in place, not copied
    check_model(g, ref, name + " (gguf)");
    fs::remove(out);
  }
}

}  // namespace

TEST_CASE("tiny-uncased-mlm matches transformers") { check_fixture("tiny-uncased-mlm"); }
TEST_CASE("tiny-uncased-cls matches transformers") { check_fixture("tiny-uncased-cls"); }
TEST_CASE("tiny-cased-base matches transformers") { check_fixture("tiny-cased-base"); }
