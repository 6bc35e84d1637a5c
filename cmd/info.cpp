// bertctl info: what a model is (architecture, sizes, parameters, dtype, vocabulary, labels), and with
// --cpu what this machine offers and which kernels bertctl runs on it.
#include <algorithm>
#include <cstdio>

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "core/error.hpp"  // fail_usage
#include "io/gguf.hpp"  // GgufFile: checksums
#include "io/tensor_archive.hpp"
#include "model/model.hpp"
#include "ops/cpu.hpp"
#include "ops/ops.hpp"

namespace bertctl {

namespace {

struct InfoOptions {
  std::string model;
  std::string format = "text";
  bool cpu = false;
  bool verify = false;
};

void print(const nlohmann::ordered_json& j, const std::string& format) {
  if (format == "json") {
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  for (auto& [k, v] : j.items())
    std::printf("%-24s %s\n", (k + ":").c_str(), v.is_string() ? v.get<std::string>().c_str() : v.dump().c_str());
}

std::vector<std::string> feature_names(const bert::ops::CpuFeatures& f) {
  std::vector<std::string> names;
  for (auto [on, name] : {std::pair{f.avx2, "avx2"}, {f.avx512, "avx512"}, {f.avx512_vnni, "avx512_vnni"},
                          {f.avx512_bf16, "avx512_bf16"}, {f.amx, "amx"}, {f.avx_vnni, "avx_vnni"}})
    if (on) names.push_back(name);
  return names;
}

void run_cpu_info(const InfoOptions& o, bool with_version = false) {
  const bert::ops::Cpu& c = bert::ops::cpu();
  nlohmann::ordered_json j;
  if (with_version) j["bertctl"] = BERTCTL_VERSION;
  j["cpu"] = c.name;
  j["has"] = feature_names(c.has);
  j["uses"] = feature_names(c.use);
  j["cap"] = c.cap ? fmt::format("{} ({})", bert::ops::isa_level_name(*c.cap), c.cap_source) : "none";
  for (const auto& [what, how] : bert::ops::engine_report()) j[what] = how;
  j["threads"] = bert::ops::num_threads();
  if (o.format == "json") return print(j, o.format);
  for (const char* list : {"has", "uses"})  // one line each in the text form
    j[list] = j[list].empty() ? "none" : fmt::format("{}", fmt::join(j[list].get<std::vector<std::string>>(), " "));
  print(j, o.format);
}

void run_info(const InfoOptions& o) {
  if (o.cpu) return run_cpu_info(o);
  if (o.model.empty()) bert::fail_usage("give a model, or --cpu");
  // --verify: float weights (int8 layers dequantized) so that every value is checked; loading them
  // compares a model file's tensors with its checksums.
  bert::model::Model m = bert::model::load_model(o.model, {.float_weights = o.verify, .verify = o.verify});
  const bert::model::BertConfig& c = m.config;
  const auto& tc = m.tokenizer->config();
  nlohmann::ordered_json j;
  j["model"] = o.model;
  j["architecture"] = c.hf_class();
  j["task"] = c.spec().name;
  j["layers"] = c.num_hidden_layers;
  j["hidden_size"] = c.hidden_size;
  j["attention_heads"] = c.num_attention_heads;
  j["intermediate_size"] = c.intermediate_size;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["hidden_act"] = bert::model::activation_name(c.hidden_act);
  j["parameters"] = bert::model::parameter_count(c);
  j["dtype"] = bert::io::dtype_name(m.stored_dtype);
  j["vocab_size"] = c.vocab_size;
  j["lowercase"] = tc.lowercase;
  j["max_length"] = tc.model_max_length > 0 ? std::min(tc.model_max_length, c.max_position_embeddings)
                                             : c.max_position_embeddings;
  j["pooler"] = c.has_pooler;
  j["pooling"] = bert::model::pooling_name(c.pooling);
  j["normalize"] = c.normalize;
  if (c.has_labels()) j["labels"] = c.labels;
  if (c.has_classifier()) j["multi_label"] = c.multi_label;
  if (!m.notes.empty()) j["notes"] = m.notes;
  if (o.verify) {
    if (bert::model::is_hf_checkpoint_dir(o.model)) {
      j["checksums"] = "none (a Hugging Face checkpoint)";
    } else {
      const bert::io::GgufFile f(o.model);
      j["checksums"] = f.has_checksums() ? fmt::format("{} tensors match (xxh3-64)", f.tensors().tensors().size())
                                         : "none (written by a bertctl without checksums)";
    }
    if (const std::string bad = bert::model::first_non_finite_tensor(c, m.weights); !bad.empty())
      bert::fail_model("{}: tensor '{}' holds NaN or infinite values", o.model, bad);
    j["weights"] = "all finite";
  }
  print(j, o.format);
}

}  // namespace

void add_info_command(CLI::App& root) {
  auto o = std::make_shared<InfoOptions>();
  CLI::App* app = root.add_subcommand(
      "info", "Describe a model (architecture, sizes, parameters, vocabulary, labels), or this CPU with --cpu");
  app->add_option("model", o->model, "Model file or Hugging Face checkpoint directory");
  app->add_flag("--verify", o->verify,
                "Check the model file's tensors against their checksums and every weight for NaN or infinity");
  app->add_flag("--cpu", o->cpu,
                "Describe this CPU instead: its instruction sets, the cap (BERTCTL_MAX_ISA), the kernels bertctl runs");
  app->add_option("--format", o->format, "Output format: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app->callback([o] { run_info(*o); });
}

void add_version_command(CLI::App& root) {
  auto o = std::make_shared<InfoOptions>();
  CLI::App* app = root.add_subcommand("version", "Print bertctl's version, oneDNN's, and the CPU features it uses");
  app->add_option("--format", o->format, "Output format: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app->callback([o] { run_cpu_info(*o, /*with_version=*/true); });
}

}  // namespace bertctl
