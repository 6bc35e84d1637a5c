// encode, classify and fill-mask run as a user runs them — texts.txt through the real binary, our own
// tokenizer included — against what transformers computed for the fixtures, at the README's
// tolerances; and every bad input the inference issue lists, each with one clear line and no output.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_support.hpp"

using bert::test::max_abs_diff;
using bert::test::run_bertctl;
using bert::test::shared_path;
using bert::test::to_floats;
using nlohmann::json;

namespace {

std::string texts_file() { return shared_path("fixtures/texts.txt").string(); }

int count_lines(const std::string& s) { return int(std::count(s.begin(), s.end(), '\n')); }

}  // namespace

TEST_CASE("classify: probabilities for every fixture text within 1e-5") {
  const auto dir = shared_path("fixtures/tiny-uncased-cls");
  const json ref = bert::test::read_json(shared_path("fixtures/reference/tiny-uncased-cls.json"));
  auto r = run_bertctl({"classify", "-m", dir.string(), "--format", "jsonl", texts_file()});
  REQUIRE(r.exit_code == 0);
  const auto rows = bert::test::parse_jsonl(r.out);
  REQUIRE(rows.size() == ref["cases"].size());
  double worst = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const json& want = ref["cases"][i];
    std::vector<float> got;
    for (const char* label : {"negative", "neutral", "positive"}) got.push_back(rows[i]["scores"][label].get<float>());
    const double d = max_abs_diff(got, to_floats(want["probs"]), 1e-5, "text " + std::to_string(i));
    CHECK(d <= 1e-5);
    worst = std::max(worst, d);
    CHECK(rows[i]["label"] == want["predicted_label"]);
  }
  MESSAGE("classify: " << rows.size() << " texts, max prob diff " << worst);
  // The truncated long text (index 39) is reported once on stderr.
  CHECK(r.err.find("truncated") != std::string::npos);
}

TEST_CASE("classify: pairs and tsv output") {
  const auto dir = shared_path("fixtures/tiny-uncased-cls");
  const json ref = bert::test::read_json(shared_path("fixtures/reference/tiny-uncased-cls.json"));
  std::string input;
  for (const json& p : ref["pairs"]) input += p["text_a"].get<std::string>() + "\t" + p["text_b"].get<std::string>() + "\n";
  auto r = run_bertctl({"classify", "-m", dir.string(), "--pair", "--all-scores"}, input);
  REQUIRE(r.exit_code == 0);
  std::stringstream ss(r.out);
  size_t j = 0;
  for (std::string line; std::getline(ss, line); ++j) {
    std::stringstream fields(line);
    std::string label, score;
    std::getline(fields, label, '\t');
    std::getline(fields, score, '\t');
    std::vector<float> probs;
    for (std::string p; std::getline(fields, p, '\t');) probs.push_back(std::stof(p));
    CHECK(label == ref["pairs"][j]["predicted_label"].get<std::string>());
    CHECK(max_abs_diff(probs, to_floats(ref["pairs"][j]["probs"]), 1e-5, "pair") <= 1e-5);
  }
  CHECK(j == ref["pairs"].size());
}

TEST_CASE("encode: mean, pooler and per-token vectors within 1e-4, also from the converted model") {
  bert::test::TempDir tmp;
  const auto dir = shared_path("fixtures/tiny-cased-base");
  const json ref = bert::test::read_json(shared_path("fixtures/reference/tiny-cased-base.json"));
  const std::string gguf = (tmp / "base.gguf").string();
  REQUIRE(run_bertctl({"convert", dir.string(), "-o", gguf}).exit_code == 0);
  for (const std::string& model : {dir.string(), gguf}) {
    auto mean = run_bertctl({"encode", "-m", model, "--pooling", "mean", texts_file()});
    auto pooler = run_bertctl({"encode", "-m", model, "--pooling", "pooler", "--format", "tsv", texts_file()});
    auto tokens = run_bertctl({"encode", "-m", model, "--pooling", "none", texts_file()});
    REQUIRE(mean.exit_code == 0);
    REQUIRE(pooler.exit_code == 0);
    REQUIRE(tokens.exit_code == 0);
    const auto rows = bert::test::parse_jsonl(mean.out);
    const auto per_token = bert::test::parse_jsonl(tokens.out);
    REQUIRE(rows.size() == ref["cases"].size());
    std::stringstream tsv(pooler.out);
    double worst = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      const json& want = ref["cases"][i];
      worst = std::max(worst, max_abs_diff(to_floats(rows[i]["embedding"]), to_floats(want["mean_pooled"]), 1e-4, "mean"));
      std::string line;
      std::getline(tsv, line);
      std::stringstream fields(line);
      std::vector<float> p;
      for (std::string f; std::getline(fields, f, '\t');) p.push_back(std::stof(f));
      worst = std::max(worst, max_abs_diff(p, to_floats(want["pooler_output"]), 1e-4, "pooler"));
      CHECK(per_token[i]["tokens"] == want["tokens"]);
      worst = std::max(worst, max_abs_diff(to_floats(per_token[i]["embeddings"]), to_floats(want["last_hidden_state"]),
                                           1e-4, "per token"));
    }
    CHECK(worst <= 1e-4);
    MESSAGE("encode " << model << ": max abs diff " << worst);
  }
}

TEST_CASE("encode --format npy writes an N×H float32 matrix equal to the jsonl vectors") {
  bert::test::TempDir tmp;
  const auto dir = shared_path("fixtures/tiny-cased-base");
  const std::string npy = (tmp / "e.npy").string();
  auto r = run_bertctl({"encode", "-m", dir.string(), "--format", "npy", "-o", npy, "--normalize", texts_file()});
  REQUIRE(r.exit_code == 0);
  auto j = run_bertctl({"encode", "-m", dir.string(), "--normalize", texts_file()});
  std::ifstream in(npy, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  REQUIRE(bytes.size() > 10);
  CHECK(bytes.substr(0, 6) == "\x93NUMPY");
  const size_t header = 10 + size_t(uint8_t(bytes[8])) + 256 * size_t(uint8_t(bytes[9]));
  CHECK(header % 64 == 0);
  CHECK(bytes.find("'shape': (                  40, 48)") != std::string::npos);
  const auto rows = bert::test::parse_jsonl(j.out);
  REQUIRE(bytes.size() == header + 40 * 48 * 4);
  std::vector<float> all(40 * 48), want;
  std::memcpy(all.data(), bytes.data() + header, all.size() * 4);
  for (const json& row : rows)
    for (float v : to_floats(row["embedding"])) want.push_back(v);
  CHECK(max_abs_diff(all, want, 0, "npy") == 0);
  // Normalised: unit length.
  double norm = 0;
  for (int i = 0; i < 48; ++i) norm += double(all[size_t(i)]) * all[size_t(i)];
  CHECK(std::abs(norm - 1.0) < 1e-5);
}

TEST_CASE("fill-mask: top-5 ids exact and probabilities within 1e-6 for every [MASK] text") {
  const auto dir = shared_path("fixtures/tiny-uncased-mlm");
  const json ref = bert::test::read_json(shared_path("fixtures/reference/tiny-uncased-mlm.json"));
  std::string input;
  std::vector<const json*> cases;
  for (const json& c : ref["cases"])
    if (!c["mask_predictions"].empty()) {
      input += c["text"].get<std::string>() + "\n";
      cases.push_back(&c);
    }
  REQUIRE(cases.size() >= 3);
  auto r = run_bertctl({"fill-mask", "-m", dir.string(), "--format", "jsonl"}, input);
  REQUIRE(r.exit_code == 0);
  const auto rows = bert::test::parse_jsonl(r.out);
  REQUIRE(rows.size() == cases.size());
  double worst = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const json& want = (*cases[i])["mask_predictions"];
    REQUIRE(rows[i]["masks"].size() == want.size());
    for (size_t m = 0; m < want.size(); ++m) {
      CHECK(rows[i]["masks"][m]["position"] == want[m]["position"]);
      for (size_t k = 0; k < 5; ++k) {
        const json& got = rows[i]["masks"][m]["predictions"][k];
        CHECK(got["id"] == want[m]["top5"][k]["id"]);
        CHECK(got["token"] == want[m]["top5"][k]["token"]);
        const double d = std::abs(got["score"].get<double>() - want[m]["top5"][k]["prob"].get<double>());
        CHECK(d <= 1e-6);
        worst = std::max(worst, d);
      }
    }
  }
  MESSAGE("fill-mask: " << rows.size() << " texts, max prob diff " << worst);
}

TEST_CASE("fill-mask: a line without a mask is an error for that line only") {
  const auto dir = shared_path("fixtures/tiny-uncased-mlm");
  auto r = run_bertctl({"fill-mask", "-m", dir.string()}, "no mask here\nParis is the [MASK] of France.\n");
  CHECK(r.exit_code == 1);
  CHECK(count_lines(r.out) == 2);
  CHECK(r.out.substr(0, 1) == "\n");  // an empty record keeps the lines aligned
  CHECK(r.err.find("<stdin>:1: no [MASK] token") != std::string::npos);
}

TEST_CASE("a padded batch gives the same numbers as one text at a time") {
  const auto dir = shared_path("fixtures/tiny-uncased-cls");
  auto batched = run_bertctl({"encode", "-m", dir.string(), "-b", "16", texts_file()});
  auto single = run_bertctl({"encode", "-m", dir.string(), "-b", "1", texts_file()});
  REQUIRE(batched.exit_code == 0);
  REQUIRE(single.exit_code == 0);
  const auto a = bert::test::parse_jsonl(batched.out), b = bert::test::parse_jsonl(single.out);
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, max_abs_diff(to_floats(a[i]["embedding"]), to_floats(b[i]["embedding"]), 1.5e-6, "batch"));
  CHECK(worst <= 1.5e-6);
}

TEST_CASE("classify: a multi-label model gives independent sigmoid scores and the labels over --threshold") {
  bert::test::TempDir tmp;
  const auto src = shared_path("fixtures/tiny-uncased-cls");
  const auto dir = tmp / "multi";
  std::filesystem::create_directories(dir);
  for (const char* f : {"vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "pytorch_model.bin"})
    std::filesystem::copy_file(src / f, dir / f);
  json config = bert::test::read_json(src / "config.json");
  config["problem_type"] = "multi_label_classification";
  std::ofstream(dir / "config.json") << config.dump();
  const json ref = bert::test::read_json(shared_path("fixtures/reference/tiny-uncased-cls.json"));
  const std::string text = ref["cases"][0]["text"].get<std::string>() + "\n";
  auto r = run_bertctl({"classify", "-m", dir.string(), "--format", "jsonl", "--threshold", "0.3"}, text);
  REQUIRE(r.exit_code == 0);
  const json row = json::parse(r.out);
  const auto logits = to_floats(ref["cases"][0]["logits"]);
  const char* names[] = {"negative", "neutral", "positive"};
  json want_labels = json::array();
  for (int j = 0; j < 3; ++j) {
    const double p = 1.0 / (1.0 + std::exp(-double(logits[size_t(j)])));
    CHECK(std::abs(row["scores"][names[j]].get<double>() - p) <= 1e-5);
    if (p >= 0.3) want_labels.push_back(names[j]);
  }
  CHECK(row["labels"] == want_labels);
  auto raw = run_bertctl({"classify", "-m", dir.string(), "--format", "jsonl", "--raw"}, text);
  CHECK(std::abs(json::parse(raw.out)["scores"]["negative"].get<double>() - logits[0]) <= 1e-4);
}
