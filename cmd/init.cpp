// bertctl init: a freshly initialised model of any size, for training from scratch and benchmarks.
#include <algorithm>
#include <sstream>

#include "command.hpp"
#include "core/error.hpp"
#include "core/file.hpp"
#include "model/init.hpp"
#include "model/model.hpp"
#include "text/tokenizer.hpp"

namespace bertctl {

namespace {

struct InitOptions {
  int layers = 12, hidden = 768, heads = 12, intermediate = 3072, max_position = 512;
  std::string vocab;
  std::string labels;
  std::string task;  // "": sequence-classification with --labels, else encoder
  std::string activation = "gelu";
  std::string output;
  uint64_t seed = 42;
  bool force = false;
  std::optional<bool> lowercase;
};

void run_init(const InitOptions& o) {
  if (!o.force && bert::output_would_replace(o.output)) bert::fail_usage("{} exists; pass --force to overwrite it", o.output);
  bert::text::Tokenizer tok = bert::text::Tokenizer::from_path(o.vocab);
  if (o.lowercase) {
    bert::text::TokenizerConfig tc = tok.config();
    tc.lowercase = *o.lowercase;
    tok = bert::text::Tokenizer(tok.vocab(), tc);
  }
  bert::model::BertConfig c;
  c.vocab_size = int(tok.vocab().size());
  c.hidden_size = o.hidden;
  c.num_hidden_layers = o.layers;
  c.num_attention_heads = o.heads;
  c.intermediate_size = o.intermediate;
  c.max_position_embeddings = o.max_position;
  c.hidden_act = bert::model::parse_activation(o.activation, "--activation");
  c.pad_token_id = tok.pad_id();
  const std::string task_name = !o.task.empty() ? o.task : o.labels.empty() ? "encoder" : "sequence-classification";
  const bert::model::TaskSpec* task = bert::model::find_task_by_name(task_name);
  if (!task) bert::fail_usage("--task {}: unknown (one of {})", task_name, bert::model::task_name_list());
  c.task = task->task;
  c.has_pooler = task->pooler;
  if (c.has_labels() && o.labels.empty()) bert::fail_usage("--task {} needs --labels", task_name);
  if (!c.has_labels() && !o.labels.empty()) bert::fail_usage("--task {} has no labels; drop --labels", task_name);
  if (!o.labels.empty()) {
    std::stringstream ss(o.labels);
    for (std::string label; std::getline(ss, label, ',');) {
      if (label.empty()) bert::fail_usage("--labels: empty label in '{}'", o.labels);
      if (std::find(c.labels.begin(), c.labels.end(), label) != c.labels.end())
        bert::fail_usage("--labels: '{}' is given twice", label);
      c.labels.push_back(label);
    }
  }
  if (c.hidden_size % c.num_attention_heads != 0)
    bert::fail_usage("--hidden {} is not a multiple of --heads {}", c.hidden_size, c.num_attention_heads);
  bert::model::Model m = bert::model::make_model(c, std::move(tok));
  bert::model::init_weights(m.config, m.weights, o.seed);
  bert::model::save_model_gguf(m, o.output);
}

}  // namespace

void add_init_command(CLI::App& root) {
  auto o = std::make_shared<InitOptions>();
  CLI::App* app = root.add_subcommand("init", "Create a freshly initialised model (transformers' initialisation, seeded)");
  app->add_option("--layers", o->layers, "Encoder layers")->check(CLI::Range(1, 256))->capture_default_str();
  app->add_option("--hidden", o->hidden, "Hidden size")->check(CLI::Range(1, 65536))->capture_default_str();
  app->add_option("--heads", o->heads, "Attention heads")->check(CLI::Range(1, 1024))->capture_default_str();
  app->add_option("--intermediate", o->intermediate, "Feed-forward size")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  app->add_option("--max-position", o->max_position, "Position embeddings (longest input)")
      ->check(CLI::Range(1, 1 << 16))
      ->capture_default_str();
  app->add_option("--activation", o->activation, "Feed-forward activation: gelu, gelu_new or relu")
      ->check(CLI::IsMember({"gelu", "gelu_new", "relu"}))
      ->capture_default_str();
  app->add_option("--vocab", o->vocab, "vocab.txt, tokenizer.json or a Hugging Face directory")->required();
  app->add_option("--labels", o->labels,
                  "Comma-separated labels: of a sequence classifier (the default task with labels) or a tagger");
  app->add_option("--task", o->task,
                  "The head: encoder (none), masked-lm, pretraining, sequence-classification, token-classification "
                  "or question-answering (default: sequence-classification with --labels, else encoder)")
      ->check(CLI::IsMember({"encoder", "masked-lm", "pretraining", "sequence-classification", "token-classification",
                             "question-answering"}));
  app->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  auto* lower = app->add_flag_function("--lowercase", [o](int64_t) { o->lowercase = true; },
                                       "Lower-case and strip accents when tokenizing");
  app->add_flag_function("--no-lowercase", [o](int64_t) { o->lowercase = false; }, "Keep case")->excludes(lower);
  app->add_option("-o,--output", o->output, "Model file to write")->required();
  app->add_flag("-f,--force", o->force, "Overwrite an existing output");
  app->callback([o] { run_init(*o); });
}

}  // namespace bertctl
