// Features as transformers' example scripts make them, against the batches of
// ../shared/fixtures/tasks/train-ner and train-qa: ids, word ids and labels (run_ner.py), start and
// end positions (run_qa.py); and the CoNLL and SQuAD readers' checks.
#include <doctest/doctest.h>

#include <fstream>

#include "core/error.hpp"
#include "model/model.hpp"
#include "test_support.hpp"
#include "train/task_datasets.hpp"
#include "train/task_features.hpp"

using nlohmann::json;
using namespace bert::train;

namespace {

// The real tokens of a padded fixture row.
template <class T>
std::vector<T> unpadded(const json& row, const json& mask) {
  std::vector<T> out;
  for (size_t t = 0; t < row.size(); ++t)
    if (mask[t] == 1) out.push_back(row[t].is_null() ? T(-1) : row[t].get<T>());
  return out;
}

}  // namespace

TEST_CASE("token classification features: ids, word ids and first-piece labels as run_ner.py") {
  const json t = bert::test::read_json(bert::test::shared_path("fixtures/tasks/train-ner") / "train_batch.json");
  const auto model = bert::model::load_model(bert::test::shared_path("fixtures/tasks/tiny-uncased-ner").string());
  std::map<std::string, int32_t> ids;
  for (size_t i = 0; i < model.config.labels.size(); ++i) ids[model.config.labels[i]] = int32_t(i);
  for (size_t b = 0; b < t["examples"].size(); ++b) {
    INFO("example " << b);
    TaggedSentence s;
    s.words = t["examples"][b]["words"].get<std::vector<std::string>>();
    s.tags = t["examples"][b]["labels"].get<std::vector<std::string>>();
    const Feature f = token_feature(*model.tokenizer, s, ids, t["max_length"].get<int>());
    const json& mask = t["attention_mask"][b];
    CHECK(f.encoding.ids == unpadded<int32_t>(t["input_ids"][b], mask));
    CHECK(f.encoding.word_ids == unpadded<int32_t>(t["word_ids"][b], mask));
    CHECK(f.labels == unpadded<int32_t>(t["labels"][b], mask));
  }
}

TEST_CASE("question answering features: answer start and end tokens as run_qa.py, 0/0 without an answer") {
  const json t = bert::test::read_json(bert::test::shared_path("fixtures/tasks/train-qa") / "train_batch.json");
  const auto model = bert::model::load_model(bert::test::shared_path("fixtures/tasks/tiny-uncased-qa").string());
  for (size_t b = 0; b < t["examples"].size(); ++b) {
    INFO("example " << b);
    const json& ex = t["examples"][b];
    SquadQuestion q;
    q.question = ex["question"].get<std::string>();
    q.context = ex["context"].get<std::string>();
    if (ex.contains("answer") && !ex["answer"]["text"].is_null())
      q.answers.push_back({ex["answer"]["text"].get<std::string>(), ex["answer"]["answer_start"].get<uint32_t>()});
    const std::vector<Feature> f = qa_features(*model.tokenizer, q, t["max_length"].get<int>(), 16, uint32_t(b));
    REQUIRE(f.size() == 1);
    CHECK(f[0].encoding.ids == unpadded<int32_t>(t["input_ids"][b], t["attention_mask"][b]));
    CHECK(f[0].labels == std::vector<int32_t>{t["start_positions"][b].get<int32_t>(), t["end_positions"][b].get<int32_t>()});
  }
}

TEST_CASE("CoNLL reader: sentences, labels in a stable order, and each bad line named") {
  bert::test::TempDir tmp;
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(tmp / name) << text;
    return (tmp / name).string();
  };
  const ConllData d = read_conll(write("a.conll", "John\tB-PER\nlives\tO\n\nin\tO\nParis\tI-LOC\n"));
  REQUIRE(d.sentences.size() == 2);
  CHECK(d.sentences[1].words == std::vector<std::string>{"in", "Paris"});
  CHECK(d.sentences[1].line == 4);
  CHECK(d.broken_bio == 1);  // I-LOC after O
  CHECK(d.first_broken_bio.find("a.conll:5: I-LOC after O") != std::string::npos);
  CHECK(conll_labels(d.sentences) == std::vector<std::string>{"O", "I-LOC", "B-PER"});
  auto refused = [&](const std::string& text, const std::vector<std::string>& labels, const std::string& message) {
    try {
      read_conll(write("b.conll", text), labels);
      FAIL("accepted " << text);
    } catch (const bert::Error& e) {
      CHECK(std::string(e.what()).find(message) != std::string::npos);
    }
  };
  refused("John\tB-PER\nlives O\n", {}, "b.conll:2: expected token<TAB>tag, found no tab");
  refused("John\tB-PER\nlives\tB-XYZ\n", {"O", "B-PER"}, "b.conll:2: tag 'B-XYZ' is not one of the labels");
}

TEST_CASE("SQuAD reader: an answer that is not at its answer_start is refused, naming the question") {
  bert::test::TempDir tmp;
  auto squad = [&](const std::string& qas) {
    std::ofstream(tmp / "s.json") << R"({"data":[{"paragraphs":[{"context":"Ça va à Paris.","qas":[)" + qas + "]}]}]}";
    return (tmp / "s.json").string();
  };
  const auto ok = read_squad(squad(R"({"id":"q1","question":"Where?","answers":[{"text":"Paris","answer_start":8}]})"));
  REQUIRE(ok.size() == 1);
  CHECK(ok[0].answers[0].start == 8);  // characters, not bytes (Ç and à are two bytes each)
  try {
    read_squad(squad(R"({"id":"q2","question":"Where?","answers":[{"text":"Paris","answer_start":10}]})"));
    FAIL("accepted a misplaced answer");
  } catch (const bert::Error& e) {
    CHECK(std::string(e.what()).find("question q2: the answer \"Paris\" is not at answer_start 10") != std::string::npos);
  }
  try {
    read_squad(squad(R"({"id":"q3","question":" ","answers":[]})"));
    FAIL("accepted an empty question");
  } catch (const bert::Error& e) {
    CHECK(std::string(e.what()).find("question q3: the question is empty") != std::string::npos);
  }
}
