// bertctl evaluate: a classifier scored on a labelled CSV/TSV/JSONL file, with the metrics finetune
// reports (accuracy, macro-F1, per-class precision/recall/F1, confusion matrix), so checking a model
// needs no Python. The same reading of the data as finetune, the same forward as classify.
#include <memory>

#include "command.hpp"
#include "dataset_options.hpp"
#include "core/error.hpp"
#include "core/output.hpp"
#include "model/inference.hpp"
#include "model_pipeline.hpp"  // ModelOptions, load_model_for, encode_options_for
#include "train/dataset.hpp"
#include "train/evaluation.hpp"

namespace bertctl {

namespace {

struct EvaluateOptions {
  ModelOptions model;
  std::string data, format = "text";
  DatasetOptions dataset;
};

void run_evaluate(EvaluateOptions& o) {
  namespace tr = bert::train;
  const bert::model::Model model = load_model_for(o.model);
  const bert::model::BertConfig& c = model.config;
  if (!c.has_classifier()) bert::fail_model("{}: not a sequence classifier (it has no labels)", o.model.model);
  if (c.multi_label) bert::fail_model("{}: multi-label models cannot be evaluated yet", o.model.model);
  const tr::Dataset d = tr::read_dataset(o.data, o.dataset.resolved());
  report_dataset(d, "evaluate", /*quiet=*/false);
  const tr::LabelledTexts data =
      tr::tokenize_labelled(model, d.rows, encode_options_for(o.model, model, "evaluate").max_length, o.data);
  bert::model::Inference inf(model);
  if (data.texts.size() > size_t(o.model.batch_size)) inf.pack_from_first_call();
  const tr::Metrics m = tr::evaluate_classifier(
      data.texts, data.labels, o.model.batch_size,
      [&](const std::vector<const bert::text::Encoding*>& batch) {
        inf.run(batch);
        return inf.classifier_logits();
      },
      c.num_labels());
  bert::Output out;
  out.write(o.format == "json" ? tr::metrics_json(m, c.labels) + "\n" : tr::format_metrics(m, c.labels));
  out.flush();
}

}  // namespace

void add_evaluate_command(CLI::App& root) {
  auto o = std::make_shared<EvaluateOptions>();
  CLI::App* app = root.add_subcommand(
      "evaluate", "Score a classifier on a labelled CSV, TSV or JSON Lines file: accuracy, macro-F1, confusion");
  add_model_options(*app, o->model);
  app->add_option("data", o->data, "Labelled data (.csv, .tsv or .jsonl), read as finetune reads it")->required();
  add_dataset_options(*app, o->dataset, "Rows with a missing text or label: fail or skip");
  app->add_option("--format", o->format, "Output: text (finetune's table) or json (one object)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app->callback([o] { run_evaluate(*o); });
}

}  // namespace bertctl
