// The token-classification and question-answering pipelines against ../shared/fixtures/tasks
// (transformers 4.36.2): tokens, offsets, word ids and windows exact; logits within 1e-4; every
// aggregation strategy's entities and every QA answer exact (labels, words, offsets), scores
// within 1e-5.
#include <doctest/doctest.h>

#include "model/inference.hpp"
#include "model/model.hpp"
#include "pipeline/question_answering.hpp"
#include "pipeline/token_classification.hpp"
#include "pipeline/windows.hpp"
#include "test_support.hpp"

using bert::test::max_abs_diff;
using nlohmann::json;
namespace pl = bert::pipeline;

namespace {

// Tokens, ids, offsets and word ids of an encoding against a fixture's (null word id = -1).
void check_encoding(const bert::text::Encoding& e, const json& want) {
  CHECK(e.ids == want["input_ids"].get<std::vector<int32_t>>());
  std::vector<std::pair<uint32_t, uint32_t>> offsets;
  for (const auto& o : want["offsets"]) offsets.emplace_back(o[0].get<uint32_t>(), o[1].get<uint32_t>());
  CHECK(e.offsets == offsets);
  std::vector<int32_t> words;
  for (const auto& w : want["word_ids"]) words.push_back(w.is_null() ? -1 : w.get<int32_t>());
  CHECK(e.word_ids == words);
}

// Logits (rows, N) of each encoding run alone (B = 1).
std::vector<float> token_logits(bert::model::Inference& inf, const bert::text::Encoding& e) {
  inf.run({&e});
  return inf.token_logits();
}

void check_entities(const std::vector<pl::Entity>& got, const json& want, bool with_index) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const json& w = want[i];
    INFO("entity " << i << ": " << w.dump());
    CHECK(got[i].label == (with_index ? w["entity"] : w["entity_group"]).get<std::string>());
    CHECK(got[i].word == w["word"].get<std::string>());
    CHECK(got[i].start == w["start"].get<uint32_t>());
    CHECK(got[i].end == w["end"].get<uint32_t>());
    CHECK(std::abs(got[i].score - w["score"].get<double>()) <= 1e-5);
    if (with_index) CHECK(got[i].index == w["index"].get<int32_t>());
  }
}

}  // namespace

TEST_CASE("token classification: tokens, logits and all five aggregation strategies match transformers") {
  const auto dir = bert::test::shared_path("fixtures/tasks/tiny-uncased-ner");
  const json ref = bert::test::read_json(bert::test::shared_path("fixtures/tasks/reference") / "ner.json");
  const bert::model::Model model = bert::model::load_model(dir.string());
  bert::model::Inference inf(model);
  const auto& labels = model.config.labels;
  const int L = int(labels.size());
  double worst_logit = 0, worst_score = 0;
  size_t entities = 0;
  for (const json& c : ref["cases"]) {
    const std::string text = c["text"].get<std::string>();
    INFO("case " << c["index"].get<int>() << ": " << text);
    bert::text::EncodeOptions eo;
    eo.max_length = ref["max_length"].get<int>();
    eo.word_ids = true;
    const bert::text::Encoding e = model.tokenizer->encode(text, eo);
    check_encoding(e, c);
    const std::vector<float> logits = token_logits(inf, e);
    worst_logit = std::max(worst_logit, max_abs_diff(logits, bert::test::to_floats(c["logits"]), 1e-4, "logits"));
    const std::vector<float> probs = pl::token_probabilities(logits, int(e.ids.size()), L);
    worst_score = std::max(worst_score, max_abs_diff(probs, bert::test::to_floats(c["probs"]), 1e-5, "probs"));
    for (const auto& [name, want] : c["pipeline"].items()) {
      INFO("aggregation " << name);
      const auto got = pl::window_entities(text, e, probs, labels, *model.tokenizer, pl::parse_aggregation(name), {"O"});
      check_entities(got, want, name == "none");
      entities += got.size();
    }
    if (!c.contains("pipeline_stride")) continue;
    // The long text again, in windows of 128 with a stride of 32.
    const json& s = c["pipeline_stride"];
    bert::text::EncodeOptions full_options;
    full_options.word_ids = true;
    const auto windows = pl::overflow_windows(model.tokenizer->encode(text, full_options), eo.max_length,
                                              s["stride"].get<int>(), false);
    REQUIRE(windows.size() == s["windows"].size());
    std::vector<std::vector<float>> window_probs;
    for (size_t k = 0; k < windows.size(); ++k) {
      const json& w = s["windows"][k];
      const size_t real = size_t(std::count(w["attention_mask"].begin(), w["attention_mask"].end(), 1));
      CHECK(windows[k].ids == std::vector<int32_t>(w["input_ids"].begin(), w["input_ids"].begin() + long(real)));
      const std::vector<float> wl = token_logits(inf, windows[k]);
      const std::vector<float> want = bert::test::to_floats(w["logits"]);
      worst_logit = std::max(worst_logit, max_abs_diff(wl, std::span(want).first(wl.size()), 1e-4, "window logits"));
      window_probs.push_back(pl::token_probabilities(wl, int(windows[k].ids.size()), L));
    }
    for (const char* name : {"simple", "first", "average", "max"}) {
      INFO("stride, aggregation " << name);
      const json& want = s[name];
      std::vector<pl::Entity> pooled;
      for (size_t k = 0; k < windows.size(); ++k) {
        auto got = pl::window_entities(text, windows[k], window_probs[k], labels, *model.tokenizer,
                                       pl::parse_aggregation(name), {"O"});
        pooled.insert(pooled.end(), got.begin(), got.end());
      }
      check_entities(pl::resolve_overlaps(pooled), want, false);
    }
  }
  CHECK(worst_logit <= 1e-4);
  CHECK(worst_score <= 1e-5);
  MESSAGE("ner: " << ref["cases"].size() << " texts, " << entities << " entities; max logit diff " << worst_logit
                  << ", max prob diff " << worst_score);
}

TEST_CASE("question answering: windows, logits and answers match transformers' pipeline") {
  const auto dir = bert::test::shared_path("fixtures/tasks/tiny-uncased-qa");
  const json ref = bert::test::read_json(bert::test::shared_path("fixtures/tasks/reference") / "qa.json");
  const bert::model::Model model = bert::model::load_model(dir.string());
  bert::model::Inference inf(model);
  const json& p = ref["parameters"];
  double worst_logit = 0, worst_score = 0;
  size_t answers = 0;
  for (const json& c : ref["cases"]) {
    const std::string question = c["question"].get<std::string>(), context = c["context"].get<std::string>();
    INFO("case " << c["index"].get<int>() << ": " << question);
    bert::text::EncodeOptions eo;
    eo.word_ids = true;
    const auto windows = pl::overflow_windows(model.tokenizer->encode_pair(question, context, eo),
                                              p["max_seq_len"].get<int>(), p["doc_stride"].get<int>(), true);
    REQUIRE(windows.size() == c["windows"].size());
    std::vector<std::vector<float>> starts, ends;
    for (size_t k = 0; k < windows.size(); ++k) {
      const json& w = c["windows"][k];
      check_encoding(windows[k], w);
      const std::vector<float> logits = token_logits(inf, windows[k]);
      std::vector<float> s, e;
      for (size_t t = 0; t < windows[k].ids.size(); ++t) {
        s.push_back(logits[t * 2]);
        e.push_back(logits[t * 2 + 1]);
      }
      worst_logit = std::max({worst_logit, max_abs_diff(s, bert::test::to_floats(w["start_logits"]), 1e-4, "start"),
                              max_abs_diff(e, bert::test::to_floats(w["end_logits"]), 1e-4, "end")});
      starts.push_back(std::move(s));
      ends.push_back(std::move(e));
    }
    for (const auto& [config, want_value] : c["pipeline"].items()) {
      INFO("config " << config);
      pl::AnswerOptions o;
      o.max_answer_len = p["max_answer_len"].get<int>();
      o.top_k = config.starts_with("top_k=3") ? 3 : 1;
      o.handle_impossible_answer = config.find("handle_impossible_answer") != std::string::npos;
      const std::vector<pl::Answer> got = pl::best_answers(context, windows, starts, ends, o);
      const json want = want_value.is_array() ? want_value : json::array({want_value});
      REQUIRE(got.size() == want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        INFO("answer " << i << ": " << want[i].dump());
        CHECK(got[i].text == want[i]["answer"].get<std::string>());
        CHECK(got[i].start == want[i]["start"].get<uint32_t>());
        CHECK(got[i].end == want[i]["end"].get<uint32_t>());
        worst_score = std::max(worst_score, std::abs(double(got[i].score) - want[i]["score"].get<double>()));
        ++answers;
      }
    }
  }
  CHECK(worst_logit <= 1e-4);
  CHECK(worst_score <= 1e-5);
  MESSAGE("qa: " << ref["cases"].size() << " pairs, " << answers << " answers; max logit diff " << worst_logit
                 << ", max score diff " << worst_score);
}

TEST_CASE("decode_wordpieces is the fast tokenizer's decoder, clean-up per token") {
  CHECK(pl::decode_wordpieces(std::vector<std::string>{"microsoft", "'"}) == "microsoft '");
  CHECK(pl::decode_wordpieces(std::vector<std::string>{"tuesday", "."}) == "tuesday.");
  CHECK(pl::decode_wordpieces(std::vector<std::string>{"##e", "##kel", "x"}) == "##ekel x");
  CHECK(pl::decode_wordpieces(std::vector<std::string>{"they", "don", "'", "t"}) == "they don ' t");
  CHECK(pl::decode_wordpieces(std::vector<std::string>{"i do not know"}) == "i don't know");
}
