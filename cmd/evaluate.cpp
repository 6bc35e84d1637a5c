// bertctl evaluate: a model scored on labelled data with the metrics finetune reports, so checking
// a model needs no Python: a classifier on CSV/TSV/JSONL (accuracy, macro-F1, per-class figures,
// confusion matrix), a tagger on CoNLL (strict IOB2 entity precision/recall/F1), a question answerer
// on SQuAD JSON (exact match, F1). The same reading of the data as finetune, the same forward as
// classify, ner and qa.
#include <memory>

#include "command.hpp"
#include "dataset_options.hpp"
#include "core/error.hpp"
#include "core/output.hpp"
#include "model/inference.hpp"
#include "model_pipeline.hpp"  // ModelOptions, load_model_for, encode_options_for
#include "train/dataset.hpp"
#include "train/evaluation.hpp"
#include "train/task_data.hpp"

namespace bertctl {

namespace {

struct EvaluateOptions {
  ModelOptions model;
  std::string data, format = "text";
  DatasetOptions dataset;
  int doc_stride = -1;
};

// A tagger on CoNLL or a question answerer on SQuAD JSON, through finetune's evaluation.
bert::train::Metrics evaluate_token_task(const EvaluateOptions& o, const bert::model::Model& model) {
  namespace tr = bert::train;
  const bert::model::BertConfig& c = model.config;
  const int limit = encode_options_for(o.model, model, "evaluate").max_length;
  tr::TaskData data;
  if (c.task == bert::model::Task::TASK_TOKEN_CLASSIFICATION) {
    data = tr::token_classification_data(model, {}, tr::read_conll(o.data, c.labels).sentences, limit);
  } else {
    const int window = o.model.max_length > 0 ? limit : std::min(limit, 384);
    const int stride = o.doc_stride >= 0 ? o.doc_stride : std::min(window / 2, 128);
    data = tr::question_answering_data(model, {}, tr::read_squad(o.data), window, stride);
  }
  bert::model::Inference inf(model);
  if (data.eval.size() > size_t(o.model.batch_size)) inf.pack_from_first_call();
  return data.evaluate(
      [&](const bert::model::EncoderInput& batch) {
        inf.run(batch);
        return inf.token_logits();
      },
      data.eval, o.model.batch_size);
}

void run_evaluate(EvaluateOptions& o) {
  namespace tr = bert::train;
  const bert::model::Model model = load_model_for(o.model);
  const bert::model::BertConfig& c = model.config;
  if (c.spec().head_input == bert::model::HeadInput::HEAD_INPUT_TOKENS) {
    const tr::Metrics m = evaluate_token_task(o, model);
    bert::Output out;
    out.write(o.format == "json" ? tr::metrics_json(m, c.labels) + "\n" : tr::format_metrics(m, c.labels));
    out.flush();
    return;
  }
  if (!c.has_classifier())
    bert::fail_model("{}: {} has no task head to evaluate (a classifier, tagger or question answerer)", o.model.model,
                     c.hf_class());
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
      "evaluate",
      "Score a model on labelled data: a classifier (CSV/TSV/JSONL), a tagger (CoNLL) or a question answerer (SQuAD)");
  add_model_options(*app, o->model);
  app->add_option("data", o->data,
                  "Labelled data, read as finetune reads it: .csv/.tsv/.jsonl (classifier), CoNLL (tagger), SQuAD "
                  "JSON (question answerer)")
      ->required();
  app->add_option("--doc-stride", o->doc_stride,
                  "Question answering: context tokens that windows share (default: min(window/2, 128))")
      ->check(CLI::NonNegativeNumber);
  add_dataset_options(*app, o->dataset, "Rows with a missing text or label: fail or skip");
  app->add_option("--format", o->format, "Output: text (finetune's table) or json (one object)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app->callback([o] { run_evaluate(*o); });
}

}  // namespace bertctl
