// ner and qa as a user runs them — the fixture texts through the real binary, our tokenizer and
// batching included — against transformers' pipelines (../shared/fixtures/tasks): every entity and
// answer exact, scores within 1e-5; the output formats; and bad input, one clear line each.
#include <doctest/doctest.h>

#include <sstream>

#include "test_support.hpp"

using bert::test::run_bertctl;
using bert::test::shared_path;
using nlohmann::json;

namespace {

// Texts with newlines cannot be input lines; the fixtures have none, which this checks.
std::string lines_of(const json& cases, const char* a, const char* b = nullptr) {
  std::string input;
  for (const json& c : cases) {
    std::string line = c[a].get<std::string>();
    if (b) line += "\t" + c[b].get<std::string>();
    REQUIRE(line.find('\n') == std::string::npos);
    input += line + "\n";
  }
  return input;
}

// One output record (an entity or an answer) against the pipeline's, keys in the pipeline's order.
void check_record(const json& got, const json& want, double& worst) {
  INFO("got " << got.dump() << "\nwant " << want.dump());
  REQUIRE(got.size() == want.size());
  auto g = got.begin();
  for (auto w = want.begin(); w != want.end(); ++w, ++g) {
    CHECK(g.key() == w.key());
    if (w.key() == "score") {
      worst = std::max(worst, std::abs(g.value().get<double>() - w.value().get<double>()));
      CHECK(std::abs(g.value().get<double>() - w.value().get<double>()) <= 1e-5);
    } else {
      CHECK(g.value() == w.value());
    }
  }
}

}  // namespace

TEST_CASE("ner: every aggregation strategy's entities match transformers, long text truncated or in windows") {
  const auto dir = shared_path("fixtures/tasks/tiny-uncased-ner");
  const json ref = bert::test::read_json(shared_path("fixtures/tasks/reference") / "ner.json");
  const std::string input = lines_of(ref["cases"], "text");
  double worst = 0;
  size_t entities = 0;
  for (const char* strategy : {"none", "simple", "first", "average", "max"}) {
    INFO("aggregation " << strategy);
    // transformers' default cuts the long text at 128 tokens: --truncate.
    auto r = run_bertctl({"ner", "-m", dir.string(), "--aggregation", strategy, "--truncate", "-b", "4"}, input);
    REQUIRE(r.exit_code == 0);
    const auto rows = bert::test::parse_jsonl(r.out);
    REQUIRE(rows.size() == ref["cases"].size());
    for (size_t i = 0; i < rows.size(); ++i) {
      const json& want = ref["cases"][i]["pipeline"][strategy];
      REQUIRE(rows[i].size() == want.size());
      for (size_t k = 0; k < want.size(); ++k) check_record(rows[i][k], want[k], worst);
      entities += want.size();
    }
    CHECK(r.err.find("truncated") != std::string::npos);
    if (std::string(strategy) == "none") continue;
    // The long text in windows of 128 sharing 32 tokens.
    const json& c = ref["cases"][20];
    r = run_bertctl({"ner", "-m", dir.string(), "--aggregation", strategy, "--stride", "32"},
                    c["text"].get<std::string>() + "\n");
    REQUIRE(r.exit_code == 0);
    const json got = json::parse(r.out);
    const json& want = c["pipeline_stride"][strategy];
    REQUIRE(got.size() == want.size());
    for (size_t k = 0; k < want.size(); ++k) check_record(got[k], want[k], worst);
    entities += want.size();
  }
  MESSAGE("ner cli: " << entities << " entities exact, max score diff " << worst);
}

TEST_CASE("ner: byte offsets, the marked-up text and CoNLL") {
  const auto dir = shared_path("fixtures/tasks/tiny-uncased-ner");
  const std::string text = "François Hollande visited São Paulo, Zürich and Kraków last year.";
  auto chars = run_bertctl({"ner", "-m", dir.string()}, text + "\n");
  auto bytes = run_bertctl({"ner", "-m", dir.string(), "--offsets", "bytes"}, text + "\n");
  REQUIRE(chars.exit_code == 0);
  REQUIRE(bytes.exit_code == 0);
  const json c = json::parse(chars.out), b = json::parse(bytes.out);
  REQUIRE(c.size() == b.size());
  REQUIRE(c.size() >= 2);
  for (size_t k = 0; k < c.size(); ++k) {
    // "São Paulo" starts at character 26, byte 27 (ç is two bytes).
    const std::string slice = text.substr(b[k]["start"].get<size_t>(), b[k]["end"].get<size_t>() - b[k]["start"].get<size_t>());
    CHECK(b[k]["end"].get<size_t>() - b[k]["start"].get<size_t>() >= c[k]["end"].get<size_t>() - c[k]["start"].get<size_t>());
    if (c[k]["word"] == "sao paulo") CHECK(slice == "São Paulo");
  }
  auto marked = run_bertctl({"ner", "-m", dir.string(), "--format", "text"}, text + "\n");
  REQUIRE(marked.exit_code == 0);
  CHECK(marked.out.find("[São Paulo](MISC)") != std::string::npos);
  auto conll = run_bertctl({"ner", "-m", dir.string(), "--format", "conll"}, text + "\nsecond line\n");
  REQUIRE(conll.exit_code == 0);
  // One word per line with its tag, a blank line after each input: 12 + 2 words.
  std::stringstream ss(conll.out);
  std::vector<std::string> lines;
  for (std::string l; std::getline(ss, l);) lines.push_back(l);
  REQUIRE(lines.size() == 12 + 1 + 2 + 1);
  CHECK(lines[0].starts_with("François\t"));
  CHECK(lines[3] == "São\tI-MISC");
  CHECK(lines[12].empty());
  CHECK(lines[13].starts_with("second\t"));
  CHECK(lines[15].empty());
}

TEST_CASE("qa: every answer of every configuration matches transformers' pipeline") {
  const auto dir = shared_path("fixtures/tasks/tiny-uncased-qa");
  const json ref = bert::test::read_json(shared_path("fixtures/tasks/reference") / "qa.json");
  const json& p = ref["parameters"];
  const std::string input = lines_of(ref["cases"], "question", "context");
  double worst = 0;
  size_t answers = 0;
  for (const char* config : {"top_k=1", "top_k=3", "top_k=1,handle_impossible_answer", "top_k=3,handle_impossible_answer"}) {
    INFO("config " << config);
    std::vector<std::string> args = {"qa", "-m", dir.string(), "--max-length", std::to_string(p["max_seq_len"].get<int>()),
                                     "--doc-stride", std::to_string(p["doc_stride"].get<int>()), "--max-answer-len",
                                     std::to_string(p["max_answer_len"].get<int>()), "-b", "3",
                                     "--top-k", std::string(config).starts_with("top_k=3") ? "3" : "1"};
    if (std::string(config).find("handle") != std::string::npos) args.push_back("--handle-impossible-answer");
    auto r = run_bertctl(args, input);
    REQUIRE(r.exit_code == 0);
    const auto rows = bert::test::parse_jsonl(r.out);
    REQUIRE(rows.size() == ref["cases"].size());
    for (size_t i = 0; i < rows.size(); ++i) {
      const json& want = ref["cases"][i]["pipeline"][config];
      const json got = rows[i].is_array() ? rows[i] : json::array({rows[i]});
      const json w = want.is_array() ? want : json::array({want});
      REQUIRE(got.size() == w.size());
      CHECK(rows[i].is_array() == want.is_array());
      for (size_t k = 0; k < w.size(); ++k) check_record(got[k], w[k], worst);
      answers += w.size();
    }
  }
  MESSAGE("qa cli: " << answers << " answers exact, max score diff " << worst);
}

TEST_CASE("qa --input-format squad: every question of the file, in order, with its id") {
  const auto qa = shared_path("fixtures/tasks/tiny-uncased-qa");
  const std::string squad = (bert::test::testdata_path("tasks") / "tiny-squad.json").string();
  const json doc = bert::test::read_json(squad);
  std::string lines;
  std::vector<std::string> ids;
  for (const json& article : doc["data"])
    for (const json& p : article["paragraphs"])
      for (const json& q : p["qas"]) {
        lines += q["question"].get<std::string>() + "\t" + p["context"].get<std::string>() + "\n";
        ids.push_back(q["id"].get<std::string>());
      }
  auto from_squad = run_bertctl({"qa", "-m", qa.string(), "--input-format", "squad", squad});
  auto from_lines = run_bertctl({"qa", "-m", qa.string()}, lines);
  REQUIRE(from_squad.exit_code == 0);
  REQUIRE(from_lines.exit_code == 0);
  const auto a = bert::test::parse_jsonl(from_squad.out), b = bert::test::parse_jsonl(from_lines.out);
  REQUIRE(a.size() == ids.size());
  REQUIRE(b.size() == ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    CHECK(a[i]["id"] == ids[i]);
    json without_id = a[i];
    without_id.erase("id");
    CHECK(without_id == b[i]);
  }
  auto r = run_bertctl({"qa", "-m", qa.string(), "--input-format", "squad"}, "{}");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--input-format squad reads SQuAD JSON files, not standard input") != std::string::npos);
}

TEST_CASE("convert: token-classification and QA checkpoints to our file and back to Hugging Face, same output") {
  bert::test::TempDir tmp;
  const std::string text = "Angela Merkel met Emmanuel Macron in Berlin on Tuesday.\n";
  const std::string pair = "Who met Macron?\tAngela Merkel met Emmanuel Macron in Berlin on Tuesday.\n";
  for (const char* name : {"tiny-uncased-ner", "tiny-uncased-qa"}) {
    INFO(name);
    const auto dir = shared_path(std::string("fixtures/tasks/") + name);
    const std::string gguf = (tmp / (std::string(name) + ".gguf")).string();
    const std::string hf = (tmp / (std::string(name) + "-hf")).string();
    REQUIRE(run_bertctl({"convert", dir.string(), "-o", gguf}).exit_code == 0);
    REQUIRE(run_bertctl({"convert", gguf, "--to", "hf", "-o", hf}).exit_code == 0);
    const bool ner = std::string(name).ends_with("ner");
    auto out = [&](const std::string& model) {
      auto r = ner ? run_bertctl({"ner", "-m", model, "--aggregation", "none"}, text) : run_bertctl({"qa", "-m", model, "-k", "3"}, pair);
      REQUIRE(r.exit_code == 0);
      return r.out;
    };
    const std::string want = out(dir.string());
    CHECK(!want.empty());
    CHECK(out(gguf) == want);
    CHECK(out(hf) == want);
    const json config = bert::test::read_json(std::filesystem::path(hf) / "config.json");
    CHECK(config["architectures"][0] == (ner ? "BertForTokenClassification" : "BertForQuestionAnswering"));
    if (ner) CHECK(config["id2label"]["1"] == "B-PER");
  }
}

TEST_CASE("ner and qa: bad input gets one clear line and a non-zero exit") {
  const auto ner = shared_path("fixtures/tasks/tiny-uncased-ner");
  const auto qa = shared_path("fixtures/tasks/tiny-uncased-qa");
  SUBCASE("a model without the head") {
    auto r = run_bertctl({"ner", "-m", qa.string()}, "x\n");
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("BertForQuestionAnswering is not a token classifier") != std::string::npos);
    r = run_bertctl({"qa", "-m", ner.string()}, "q\tc\n");
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("is not a question-answering model") != std::string::npos);
  }
  SUBCASE("a line without a tab") {
    auto r = run_bertctl({"qa", "-m", qa.string()}, "who?\tHim.\njust a context\n");
    CHECK(r.exit_code != 0);
    CHECK(r.err.find("<stdin>:2: expected two texts separated by a tab") != std::string::npos);
    CHECK(bert::test::parse_jsonl(r.out).size() == 1);  // the good line before it was answered
  }
  SUBCASE("a context with no question, a question with no context") {
    auto r = run_bertctl({"qa", "-m", qa.string()}, "\tThe context.\nwho?\t\nwho?\tHim.\n");
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("<stdin>:1: no question before the context") != std::string::npos);
    CHECK(r.err.find("<stdin>:2: no context after the question") != std::string::npos);
    const auto rows = bert::test::parse_jsonl(r.out);
    REQUIRE(rows.size() == 3);  // one record per line, in order
    CHECK(rows[0].contains("error"));
    CHECK(rows[2].contains("answer"));
  }
  SUBCASE("a question too long for the window") {
    auto r = run_bertctl({"qa", "-m", qa.string(), "--max-length", "16", "--doc-stride", "4"},
                         "one two three four five six seven eight nine ten eleven\tcontext here\n");
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("the question has 11 tokens") != std::string::npos);
  }
  SUBCASE("a stride that leaves no room") {
    auto r = run_bertctl({"qa", "-m", qa.string(), "--max-length", "64", "--doc-stride", "64"}, "q\tc\n");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--doc-stride 64 must be below") != std::string::npos);
  }
}
