// convert, info and init through the real binary: Hugging Face checkpoints in both weight formats to
// byte-identical model files, exact round trips, and every bad input of the inference issue refused
// with one clear line, a non-zero exit and no output file left behind.
#include <doctest/doctest.h>

#include <cstring>
#include <limits>
#include <filesystem>
#include <functional>
#include <fstream>

#include "io/safetensors.hpp"  // read_safetensors, write_safetensors
#include "test_support.hpp"

using bert::test::run_bertctl;
using bert::test::shared_path;
using bert::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

void spit(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

// A copy of a fixture checkpoint directory (only the files named) to break on purpose.
fs::path copy_fixture(const TempDir& tmp, const std::string& name, const std::vector<std::string>& files) {
  const fs::path src = shared_path("fixtures/" + name), dst = tmp / ("ckpt-" + name);
  fs::create_directories(dst);
  for (const std::string& f : files) fs::copy_file(src / f, dst / f, fs::copy_options::overwrite_existing);
  return dst;
}

// The failure a user sees: exit 1, exactly one line on stderr naming the command, the file and the
// problem, and no output (nor temporary) file in the output's folder.
bert::test::RunResult expect_refused(const fs::path& checkpoint, const std::string& names, const std::string& problem) {
  const fs::path out = checkpoint.parent_path() / "out" / "model.gguf";
  fs::create_directories(out.parent_path());
  auto r = run_bertctl({"convert", checkpoint.string(), "-o", out.string()});
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 1);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.err.rfind("bertctl: convert: ", 0) == 0);
  CHECK(r.err.find(names) != std::string::npos);
  CHECK(r.err.find(problem) != std::string::npos);
  CHECK(fs::is_empty(out.parent_path()));
  fs::remove_all(out.parent_path());
  return r;
}

const std::vector<std::string> kMlmFiles = {"config.json", "vocab.txt", "tokenizer_config.json",
                                            "special_tokens_map.json", "model.safetensors"};

// tiny-cased-base as a sentence-transformers folder: Transformer, Pooling with `pooling_config`,
// and a Normalize module if asked.
fs::path sentence_transformers_dir(const TempDir& tmp, const std::string& pooling_config, bool normalize) {
  const fs::path st = copy_fixture(tmp, "tiny-cased-base", {"config.json", "vocab.txt", "tokenizer_config.json",
                                                            "special_tokens_map.json", "model.safetensors"});
  spit(st / "modules.json",
       std::string(R"([{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},)") +
           R"({"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"})" +
           (normalize ? R"(,{"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"})"
                      : "") +
           "]");
  fs::create_directories(st / "1_Pooling");
  spit(st / "1_Pooling" / "config.json", pooling_config);
  return st;
}

}  // namespace

TEST_CASE("pytorch_model.bin and model.safetensors convert to byte-identical model files") {
  TempDir tmp;
  const auto dir = shared_path("fixtures/tiny-uncased-mlm");
  const fs::path st = copy_fixture(tmp, "tiny-uncased-mlm", kMlmFiles);
  fs::create_directories(tmp / "bin");
  for (const char* f : {"config.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "pytorch_model.bin"})
    fs::copy_file(dir / f, tmp / "bin" / f);
  REQUIRE(run_bertctl({"convert", st.string(), "-o", (tmp / "a.gguf").string()}).exit_code == 0);
  REQUIRE(run_bertctl({"convert", (tmp / "bin").string(), "-o", (tmp / "b.gguf").string()}).exit_code == 0);
  const std::string a = slurp(tmp / "a.gguf"), b = slurp(tmp / "b.gguf");
  CHECK(a.size() > 4000000);
  CHECK(a == b);
  CHECK(a.substr(0, 4) == "GGUF");
}

TEST_CASE("model file -> Hugging Face directory: the f32 weights come back bit for bit") {
  TempDir tmp;
  const auto dir = shared_path("fixtures/tiny-cased-base");
  REQUIRE(run_bertctl({"convert", dir.string(), "-o", (tmp / "m.gguf").string()}).exit_code == 0);
  auto r = run_bertctl({"convert", (tmp / "m.gguf").string(), "--to", "hf", "-o", (tmp / "hf").string()});
  REQUIRE(r.exit_code == 0);
  for (const char* f : {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"})
    CHECK(fs::exists(tmp / "hf" / f));
  CHECK(slurp(tmp / "hf" / "vocab.txt") == slurp(dir / "vocab.txt"));
  // The exported tensors are the original ones: same names, same bytes (the fixture writes its
  // header in name order, as we do, so the whole file matches).
  CHECK(slurp(tmp / "hf" / "model.safetensors") == slurp(dir / "model.safetensors"));
  // And the exported directory converts back to the same model file.
  REQUIRE(run_bertctl({"convert", (tmp / "hf").string(), "-o", (tmp / "m2.gguf").string()}).exit_code == 0);
  CHECK(slurp(tmp / "m.gguf") == slurp(tmp / "m2.gguf"));
}

TEST_CASE("--dtype f16 halves the file and keeps embeddings within f16 precision") {
  TempDir tmp;
  const auto dir = shared_path("fixtures/tiny-cased-base");
  REQUIRE(run_bertctl({"convert", dir.string(), "-o", (tmp / "h.gguf").string(), "--dtype", "f16"}).exit_code == 0);
  REQUIRE(run_bertctl({"convert", dir.string(), "-o", (tmp / "f.gguf").string()}).exit_code == 0);
  CHECK(fs::file_size(tmp / "h.gguf") < fs::file_size(tmp / "f.gguf") * 6 / 10);
  auto info = run_bertctl({"info", (tmp / "h.gguf").string(), "--format", "json"});
  CHECK(nlohmann::json::parse(info.out)["dtype"] == "F16");
  auto a = run_bertctl({"encode", "-m", (tmp / "h.gguf").string(), "--pooling", "mean"}, "Hello, world!\n");
  auto b = run_bertctl({"encode", "-m", (tmp / "f.gguf").string(), "--pooling", "mean"}, "Hello, world!\n");
  const auto va = bert::test::to_floats(nlohmann::json::parse(a.out)["embedding"]);
  const auto vb = bert::test::to_floats(nlohmann::json::parse(b.out)["embedding"]);
  const double d = bert::test::max_abs_diff(va, vb);
  CHECK(d > 0);
  CHECK(d < 5e-2);
}

TEST_CASE("convert refuses to overwrite without --force") {
  TempDir tmp;
  const auto dir = shared_path("fixtures/tiny-cased-base");
  spit(tmp / "m.gguf", "precious");
  auto r = run_bertctl({"convert", dir.string(), "-o", (tmp / "m.gguf").string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--force") != std::string::npos);
  CHECK(slurp(tmp / "m.gguf") == "precious");
  CHECK(run_bertctl({"convert", dir.string(), "-o", (tmp / "m.gguf").string(), "--force"}).exit_code == 0);
  CHECK(slurp(tmp / "m.gguf").substr(0, 4) == "GGUF");
}

TEST_CASE("info describes a model") {
  const auto dir = shared_path("fixtures/tiny-uncased-cls");
  auto r = run_bertctl({"info", dir.string(), "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["architecture"] == "BertForSequenceClassification");
  CHECK(j["layers"] == 2);
  CHECK(j["hidden_size"] == 32);
  CHECK(j["vocab_size"] == 30522);
  CHECK(j["parameters"] == 997123);  // sum of the checkpoint's tensors, pooler and classifier included
  CHECK(j["labels"] == nlohmann::json::array({"negative", "neutral", "positive"}));
}

TEST_CASE("init makes a seeded model of the requested shape that the other commands run") {
  TempDir tmp;
  const auto vocab = shared_path("vocab/bert-base-uncased.txt");
  const std::string a = (tmp / "a.gguf").string(), b = (tmp / "b.gguf").string(), c = (tmp / "c.gguf").string();
  const std::vector<std::string> shape = {"--layers", "2", "--hidden", "64", "--heads", "4", "--intermediate", "128",
                                          "--max-position", "64", "--vocab", vocab.string(), "--labels", "x,y,z"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"init"};
    args.insert(args.end(), shape.begin(), shape.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return run_bertctl(args);
  };
  REQUIRE(with({"-o", a}).exit_code == 0);
  REQUIRE(with({"-o", b}).exit_code == 0);
  REQUIRE(with({"-o", c, "--seed", "7"}).exit_code == 0);
  CHECK(slurp(a) == slurp(b));
  CHECK(slurp(a) != slurp(c));
  auto info = nlohmann::json::parse(run_bertctl({"info", a, "--format", "json"}).out);
  CHECK(info["layers"] == 2);
  CHECK(info["hidden_size"] == 64);
  CHECK(info["labels"] == nlohmann::json::array({"x", "y", "z"}));
  // transformers' _init_weights: std 0.02 for matrices, so an untrained classifier is near uniform.
  auto r = run_bertctl({"classify", "-m", a, "--format", "jsonl"}, "some text\n");
  REQUIRE(r.exit_code == 0);
  CHECK(std::abs(nlohmann::json::parse(r.out)["score"].get<double>() - 1.0 / 3) < 0.05);
  auto bad = with({"-o", (tmp / "d.gguf").string(), "--heads", "5"});
  CHECK(bad.exit_code == 2);
  CHECK(!fs::exists(tmp / "d.gguf"));
}

TEST_CASE("bad inputs: one clear line, exit 1, nothing written") {
  TempDir tmp;
  SUBCASE("missing checkpoint") {
    expect_refused(tmp / "nowhere", "nowhere", "No such file");
  }
  SUBCASE("missing config.json") {
    const fs::path d = copy_fixture(tmp, "tiny-uncased-mlm", kMlmFiles);
    fs::remove(d / "config.json");
    expect_refused(d, "config.json", "No such file");
  }
  SUBCASE("malformed config.json") {
    const fs::path d = copy_fixture(tmp, "tiny-uncased-mlm", kMlmFiles);
    spit(d / "config.json", "{\"hidden_size\": 32,");
    expect_refused(d, "config.json", "malformed JSON");
  }
  SUBCASE("an integer of config.json beyond 32 bits (it wrapped: 2^40 + 30522 read as 30522)") {
    const fs::path d = copy_fixture(tmp, "tiny-uncased-mlm", kMlmFiles);
    auto config = nlohmann::json::parse(slurp(d / "config.json"));
    config["vocab_size"] = (int64_t(1) << 40) + 30522;
    spit(d / "config.json", config.dump());
    expect_refused(d, "config.json", "\"vocab_size\" is 1099511658298, out of range");
  }
  SUBCASE("config.json's claims are checked against the tensors before anything is allocated") {
    // max_position_embeddings 10^8 took 12 GB and num_labels 10^8 16 GB before the mismatch was seen.
    const std::vector<std::string> cls_files = {"config.json", "vocab.txt", "tokenizer_config.json",
                                                "special_tokens_map.json", "pytorch_model.bin"};
    const fs::path d = copy_fixture(tmp, "tiny-uncased-cls", cls_files);
    const std::string original = slurp(d / "config.json");
    auto refused_with = [&](const std::function<void(nlohmann::json&)>& edit, const std::string& problem) {
      auto config = nlohmann::json::parse(original);
      edit(config);
      spit(d / "config.json", config.dump());
      auto r = expect_refused(d, "config.json", problem);
      CHECK(r.peak_rss_mb < 1024);
    };
    {
      auto config = nlohmann::json::parse(original);
      config["max_position_embeddings"] = 100000000;
      spit(d / "config.json", config.dump());
      auto r = expect_refused(d, "pytorch_model.bin", "config.json implies [100000000, 32]");
      CHECK(r.peak_rss_mb < 1024);
    }
    auto no_id2label = [](nlohmann::json& c) { c.erase("id2label"), c.erase("label2id"); };
    refused_with([&](auto& c) { no_id2label(c), c["num_labels"] = 100000000; },
                 "num_labels 100000000 is not a number of labels (1 to 1048576)");
    refused_with([&](auto& c) { no_id2label(c), c["num_labels"] = -1; }, "num_labels -1 is not a number of labels");
    refused_with([](auto& c) { c["model_type"] = 5; }, "\"model_type\" must be a name, not 5");
    refused_with([](auto& c) { c["layer_norm_eps"] = -1e-12; }, "layer_norm_eps must be a finite number >= 0");
  }
  SUBCASE("a NaN in the checkpoint's weights (every input would score NaN)") {
    const fs::path d = copy_fixture(tmp, "tiny-uncased-mlm", kMlmFiles);
    std::string bytes = slurp(d / "model.safetensors");
    size_t at = std::string::npos;
    {
      const auto ar = bert::io::read_safetensors((d / "model.safetensors").string());
      const auto* t = ar.find("bert.encoder.layer.1.output.dense.weight");
      REQUIRE(t);
      at = bytes.find(std::string(static_cast<const char*>(t->data), 64));  // random weights: unique
    }
    REQUIRE(at != std::string::npos);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(bytes.data() + at + 8, &nan, 4);
    spit(d / "model.safetensors", bytes);
    expect_refused(d, "model.safetensors", "tensor 'bert.encoder.layer.1.output.dense.weight' holds NaN or infinite values");
  }
  SUBCASE("tokenizer_config.json: an added token id of 20 digits; a model_max_length that leaves no room") {
    const fs::path d = copy_fixture(tmp, "tiny-uncased-mlm", kMlmFiles);
    auto tc = nlohmann::json::parse(slurp(d / "tokenizer_config.json"));
    const auto original = tc;
    tc["added_tokens_decoder"] = {{"99999999999999999999", {{"content", "[X]"}, {"special", true}}}};
    spit(d / "tokenizer_config.json", tc.dump());
    expect_refused(d, "tokenizer_config.json", "added_tokens_decoder key \"99999999999999999999\" is not a token id");
    tc = original;
    tc["model_max_length"] = 1;
    spit(d / "tokenizer_config.json", tc.dump());
    // Not blamed on a --max-length the user never passed.
    auto r = run_bertctl({"fill-mask", "-m", d.string()}, "a [MASK] b\n");
    CHECK(r.exit_code == 1);
    CHECK(r.err == "bertctl: fill-mask: " + d.string() +
                       ": its tokenizer's model_max_length 1 leaves no room for text; pass --max-length N\n");
  }
  SUBCASE("modules.json with an item that is not an object") {
    const fs::path d = copy_fixture(tmp, "tiny-uncased-mlm", kMlmFiles);
    spit(d / "modules.json", "[1]");
    expect_refused(d, "modules.json", "each module must be an object whose \"type\" and \"path\" are strings");
  }
  SUBCASE("unsupported architecture") {
    const fs::path d = copy_fixture(tmp, "tiny-uncased-mlm", kMlmFiles);
    std::string c = slurp(d / "config.json");
    c.replace(c.find("\"bert\""), 6, "\"roberta\"");
    spit(d / "config.json", c);
    expect_refused(d, "config.json", "model_type 'roberta' is not supported");
    c = slurp(d / "config.json");
    c.replace(c.find("\"roberta\""), 9, "\"bert\"");
    c.replace(c.find("BertForMaskedLM"), 15, "BertForMultipleChoice");
    spit(d / "config.json", c);
    expect_refused(d, "config.json", "architecture 'BertForMultipleChoice' is not supported");
  }
  SUBCASE("truncated safetensors") {
    const fs::path d = copy_fixture(tmp, "tiny-uncased-mlm", kMlmFiles);
    fs::resize_file(d / "model.safetensors", fs::file_size(d / "model.safetensors") / 2);
    expect_refused(d, "model.safetensors", "beyond the end of the data");
  }
  SUBCASE("header offsets out of range") {
    const fs::path d = copy_fixture(tmp, "tiny-uncased-mlm", kMlmFiles);
    std::string s = slurp(d / "model.safetensors");
    const size_t at = s.find("\"data_offsets\":[0,");
    REQUIRE(at != std::string::npos);
    s.replace(at, 18, "\"data_offsets\":[9,");  // same length; the range no longer fits its shape
    spit(d / "model.safetensors", s);
    expect_refused(d, "model.safetensors", "data_offsets [9, 128] hold 119 bytes");
  }
  SUBCASE("tensor shape mismatch") {
    const fs::path d = copy_fixture(tmp, "tiny-uncased-mlm", kMlmFiles);
    std::string c = slurp(d / "config.json");
    c.replace(c.find("\"intermediate_size\": 64"), 23, "\"intermediate_size\": 65");
    spit(d / "config.json", c);
    expect_refused(d, "intermediate.dense", "shape mismatch");
  }
  SUBCASE("unknown dtype") {
    const fs::path d = copy_fixture(tmp, "tiny-uncased-mlm", kMlmFiles);
    std::string s = slurp(d / "model.safetensors");
    const size_t at = s.find("\"F32\"");
    s.replace(at, 5, "\"Q4K\"");
    spit(d / "model.safetensors", s);
    expect_refused(d, "model.safetensors", "Q4K");
  }
  SUBCASE("a pickle naming a forbidden global") {
    const fs::path d = copy_fixture(tmp, "tiny-uncased-mlm", {"config.json", "vocab.txt", "tokenizer_config.json"});
    fs::copy_file(bert::test::testdata_path("io/evil_os_system.bin"), d / "pytorch_model.bin");
    expect_refused(d, "pytorch_model.bin", "refusing to load");
  }
  SUBCASE("a model file of a newer format version") {
    const fs::path d = copy_fixture(tmp, "tiny-uncased-mlm", kMlmFiles);
    REQUIRE(run_bertctl({"convert", d.string(), "-o", (tmp / "m.gguf").string()}).exit_code == 0);
    std::string g = slurp(tmp / "m.gguf");
    g[4] = 9;  // GGUF version 9
    fs::create_directories(tmp / "v");
    spit(tmp / "v" / "m.gguf", g);
    auto r = run_bertctl({"info", (tmp / "v" / "m.gguf").string()});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("version") != std::string::npos);
  }
}

TEST_CASE("a sentence-transformers directory brings its pooling and normalisation into the model file") {
  TempDir tmp;
  const fs::path st = sentence_transformers_dir(
      tmp, R"({"word_embedding_dimension":48,"pooling_mode_cls_token":true,"pooling_mode_mean_tokens":false})", true);
  spit(st / "sentence_bert_config.json", R"({"max_seq_length": 16, "do_lower_case": false})");
  const std::string gguf = (tmp / "st.gguf").string();
  REQUIRE(run_bertctl({"convert", st.string(), "-o", gguf}).exit_code == 0);
  const auto info = nlohmann::json::parse(run_bertctl({"info", gguf, "--format", "json"}).out);
  CHECK(info["pooling"] == "cls");
  CHECK(info["normalize"] == true);
  CHECK(info["max_length"] == 16);
  const std::string text = "A sentence long enough to be cut at sixteen tokens by the model's own limit, surely.\n";
  auto by_default = run_bertctl({"encode", "-m", gguf}, text);
  auto spelled_out = run_bertctl({"encode", "-m", shared_path("fixtures/tiny-cased-base").string(), "--pooling",
                                  "cls", "--normalize", "--max-length", "16"},
                                 text);
  REQUIRE(by_default.exit_code == 0);
  CHECK(by_default.out == spelled_out.out);
  auto unlimited = run_bertctl({"encode", "-m", shared_path("fixtures/tiny-cased-base").string(), "--pooling", "cls",
                                "--normalize"},
                               text);
  CHECK(unlimited.out != by_default.out);
}

// sentence-transformers concatenates the enabled pooling modes (cls + mean = 2H); bertctl used to take
// the first and say nothing.
TEST_CASE("a sentence-transformers pooling with two modes is refused, naming them") {
  TempDir tmp;
  const fs::path st = sentence_transformers_dir(
      tmp, R"({"word_embedding_dimension":48,"pooling_mode_cls_token":true,"pooling_mode_mean_tokens":true})", false);
  const std::string gguf = (tmp / "st.gguf").string();
  auto r = run_bertctl({"convert", st.string(), "-o", gguf});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("1_Pooling/config.json: 2 pooling modes are enabled (cls_token, mean_tokens)") != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(!fs::exists(gguf));
  auto e = run_bertctl({"encode", "-m", st.string()}, "a text\n");
  CHECK(e.exit_code == 1);
  CHECK(e.out.empty());
}

// Real checkpoints pad their embedding rows past vocab.txt (vocab_size a multiple of 8 or 64);
// transformers loads them. The extra rows are kept, and fill-mask can predict them as transformers
// does (BertTokenizer names such an id [UNK]).
TEST_CASE("a checkpoint whose vocab_size exceeds its vocab.txt loads, predicts and exports its padded rows") {
  TempDir tmp;
  const fs::path dir = copy_fixture(tmp, "tiny-uncased-mlm", kMlmFiles);
  constexpr int kExtra = 6;
  auto pad_checkpoint = [&](float extra_bias_of_first) {
    const bert::io::TensorArchive ar = bert::io::read_safetensors((dir / "model.safetensors").string());
    std::vector<std::vector<float>> grown;
    std::vector<bert::io::TensorData> tensors;
    for (const bert::io::TensorData& t : ar.tensors()) {
      bert::io::TensorData u = t;
      if (t.name == "bert.embeddings.word_embeddings.weight" || t.name == "cls.predictions.bias") {
        std::vector<float> v = bert::io::to_f32(t);
        const size_t row = t.shape.size() == 2 ? size_t(t.shape[1]) : 1;
        v.resize(v.size() + kExtra * row, 0.f);
        if (t.shape.size() == 1) {
          for (int i = 0; i < kExtra; ++i) v[v.size() - kExtra + size_t(i)] = -1e4f;
          v[v.size() - kExtra] = extra_bias_of_first;
        }
        u.shape[0] += kExtra;
        grown.push_back(std::move(v));
        u.data = grown.back().data();
        u.nbytes = grown.back().size() * sizeof(float);
      }
      tensors.push_back(u);
    }
    const fs::path out = tmp / (extra_bias_of_first > 0 ? "favoured" : "padded");
    fs::create_directories(out);
    for (const std::string& f : kMlmFiles)
      if (f != "model.safetensors") fs::copy_file(dir / f, out / f);
    bert::io::write_safetensors((out / "model.safetensors").string(), tensors);
    auto config = nlohmann::json::parse(slurp(dir / "config.json"));
    config["vocab_size"] = config["vocab_size"].get<int>() + kExtra;
    spit(out / "config.json", config.dump());
    return out;
  };
  const int V = nlohmann::json::parse(slurp(dir / "config.json"))["vocab_size"].get<int>();
  const fs::path padded = pad_checkpoint(-1e4f);
  const std::string text = "The capital of France is [MASK].\n";

  const std::string gguf = (tmp / "padded.gguf").string();
  auto c = run_bertctl({"convert", padded.string(), "-o", gguf});
  INFO(c.err);
  REQUIRE(c.exit_code == 0);
  CHECK(nlohmann::json::parse(run_bertctl({"info", gguf, "--format", "json"}).out)["vocab_size"] == V + kExtra);
  // Rows that never win change nothing: the same predictions as the unpadded checkpoint.
  auto reference = run_bertctl({"fill-mask", "-m", dir.string()}, text);
  auto from_dir = run_bertctl({"fill-mask", "-m", padded.string()}, text);
  auto from_gguf = run_bertctl({"fill-mask", "-m", gguf}, text);
  REQUIRE(reference.exit_code == 0);
  CHECK(from_dir.out == reference.out);
  CHECK(from_gguf.out == reference.out);
  // Export keeps the padded rows.
  REQUIRE(run_bertctl({"convert", gguf, "--to", "hf", "-o", (tmp / "hf").string()}).exit_code == 0);
  CHECK(nlohmann::json::parse(slurp(tmp / "hf" / "config.json"))["vocab_size"] == V + kExtra);
  const bert::io::TensorArchive exported = bert::io::read_safetensors((tmp / "hf" / "model.safetensors").string());
  const bert::io::TensorData* emb = exported.find("bert.embeddings.word_embeddings.weight");
  REQUIRE(emb != nullptr);
  CHECK(emb->shape[0] == V + kExtra);
  // A padded row that wins is predicted, named [UNK], with its id.
  auto favoured = run_bertctl({"fill-mask", "-m", pad_checkpoint(1e4f).string(), "--format", "jsonl"}, text);
  INFO(favoured.err);
  REQUIRE(favoured.exit_code == 0);
  CHECK(favoured.out.find("\"[UNK]\"") != std::string::npos);
  CHECK(favoured.out.find(std::to_string(V)) != std::string::npos);
}
