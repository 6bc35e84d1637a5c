#include "model_pipeline.hpp"

#include "command.hpp"   // add_threads_flag
#include "ops/ops.hpp"  // set_num_threads

namespace bertctl {

void add_model_options(CLI::App& app, ModelOptions& o, const char* max_length_help) {
  app.add_option("-m,--model", o.model, "Model file, or a Hugging Face checkpoint directory (converted on the fly)")
      ->required();
  app.add_option("-b,--batch-size", o.batch_size, "Texts per forward pass")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--max-length", o.max_length,
                 max_length_help ? max_length_help
                                 : "Truncate texts to N tokens, special tokens included (default: the model's limit)")
      ->check(CLI::PositiveNumber);
  add_threads_flag(app, o.threads);
}

void require_task(const bert::model::Model& m, const ModelOptions& o, bert::model::Task task, const char* what,
                  const char* how) {
  if (m.config.task != task)
    bert::fail_model("{}: {} is not {} ({}); {}", o.model, m.config.hf_class(), what,
                     bert::model::task_spec(task).hf_class, how);
}

bert::model::Model load_model_for(const ModelOptions& o) {
  bert::ops::set_num_threads(o.threads);
  return bert::model::load_model(o.model, {.map_now = true});
}

bert::text::EncodeOptions encode_options_for(const ModelOptions& o, const bert::model::Model& m, const char* command) {
  const int positions = m.config.max_position_embeddings;
  int limit = m.tokenizer->config().model_max_length;
  if (limit <= 0 || limit > positions) limit = positions;
  bert::text::EncodeOptions eo;
  eo.max_length = limit;
  if (o.max_length > 0) {
    eo.max_length = std::min(o.max_length, positions);
    if (o.max_length > positions)
      std::fprintf(stderr, "bertctl: %s: warning: --max-length %d exceeds the model's %d positions; using %d\n",
                   command, o.max_length, positions, positions);
  }
  if (eo.max_length < 3) {
    if (o.max_length > 0) bert::fail_usage("--max-length {} leaves no room for text", eo.max_length);
    // The model's own limit: the user passed no --max-length to blame.
    bert::fail_model("{}: its tokenizer's model_max_length {} leaves no room for text; pass --max-length N",
                     m.source, eo.max_length);
  }
  return eo;
}

void TruncationReport::note(const std::string& source, uint64_t line, size_t tokens) {
  if (count_++ == 0)
    std::fprintf(stderr, "bertctl: %s: warning: %s:%llu: %zu tokens truncated to %d\n", command_, source.c_str(),
                 static_cast<unsigned long long>(line), tokens, max_length_);
}

TruncationReport::~TruncationReport() {
  if (count_ > 1)
    std::fprintf(stderr, "bertctl: %s: warning: %llu inputs were truncated to %d tokens\n", command_,
                 static_cast<unsigned long long>(count_), max_length_);
}

}  // namespace bertctl
