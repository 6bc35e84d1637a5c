// bertctl info: what a model is (architecture, sizes, parameters, dtype, vocabulary, labels).
#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "command.hpp"
#include "io/tensor_archive.hpp"
#include "model/model.hpp"

namespace bertctl {

namespace {

struct InfoOptions {
  std::string model;
  std::string format = "text";
};

void run_info(const InfoOptions& o) {
  bert::model::Model m = bert::model::load_model(o.model);
  const bert::model::BertConfig& c = m.config;
  const auto& tc = m.tokenizer->config();
  nlohmann::ordered_json j;
  j["model"] = o.model;
  j["architecture"] = bert::model::architecture_name(c.architecture);
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
  if (c.has_classifier()) {
    j["labels"] = c.labels;
    j["multi_label"] = c.multi_label;
  }
  if (!m.notes.empty()) j["notes"] = m.notes;
  if (o.format == "json") {
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  for (auto& [k, v] : j.items())
    std::printf("%-24s %s\n", (k + ":").c_str(), v.is_string() ? v.get<std::string>().c_str() : v.dump().c_str());
}

}  // namespace

void add_info_command(CLI::App& root) {
  auto o = std::make_shared<InfoOptions>();
  CLI::App* app = root.add_subcommand("info", "Describe a model: architecture, sizes, parameters, vocabulary, labels");
  app->add_option("model", o->model, "Model file or Hugging Face checkpoint directory")->required();
  app->add_option("--format", o->format, "Output format: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app->callback([o] { run_info(*o); });
}

}  // namespace bertctl
