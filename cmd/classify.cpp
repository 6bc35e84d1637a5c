// bertctl classify: a label and its probability for every input line (or tab-separated pair), from
// a fine-tuned sequence classifier; softmax over labels, or an independent sigmoid per label for
// multi-label models.
#include <memory>

#include "command.hpp"
#include <fmt/ranges.h>  // fmt::join

#include "core/output.hpp"
#include "core/record.hpp"
#include "model/inference.hpp"
#include "model_pipeline.hpp"

namespace bertctl {

namespace {

struct ClassifyOptions {
  TextInputOptions input;
  ModelOptions model;
  std::string format = "tsv";
  bool all_scores = false;
  bool raw = false;
  float threshold = 0.5f;
};

void run_classify(const ClassifyOptions& o) {
  bert::model::Model model = load_model_for(o.model);
  const bert::model::BertConfig& c = model.config;
  if (!c.has_classifier())
    bert::fail_model("{}: {} has no classification head (fine-tune one with bertctl finetune)", o.model.model,
                     c.hf_class());
  const bert::text::EncodeOptions eo = encode_options_for(o.model, model, "classify");
  bert::model::Inference inf(model);
  const int L = c.num_labels();
  using Record = PipelineRecord<std::vector<float>>;

  auto run_batch = [&](std::vector<Record*>& batch) {
    std::vector<const bert::text::Encoding*> encodings;
    for (Record* r : batch) encodings.push_back(&r->encoding);
    inf.run(encodings);
    const std::vector<float> logits = inf.classifier_logits();
    for (size_t b = 0; b < batch.size(); ++b) {
      std::vector<float>& s = batch[b]->result;
      s.assign(logits.begin() + b * L, logits.begin() + (b + 1) * L);
      if (o.raw) continue;
      if (c.multi_label)
        bert::model::sigmoid_inplace(s);
      else
        bert::model::softmax_inplace(s);
    }
  };

  bert::Output out;
  std::string line;
  auto emit = [&](Record& r) {
    const std::vector<float>& s = r.result;
    // Multi-label: every label at or above the threshold (probabilities; logits compare with 0).
    std::vector<std::string> chosen;
    if (c.multi_label)
      for (int j = 0; j < L; ++j)
        if (s[size_t(j)] >= (o.raw ? 0.f : o.threshold)) chosen.push_back(c.labels[size_t(j)]);
    const int best = bert::model::top_k(s, 1)[0];
    bert::Record rec;
    if (c.multi_label && o.format == "jsonl")
      rec.add("labels", chosen);
    else if (c.multi_label)  // tsv: one column for the labels that apply
      rec.add("labels", fmt::format("{}", fmt::join(chosen, ",")));
    else
      rec.add("label", c.labels[size_t(best)]).add("score", s[size_t(best)]);
    if (o.format == "jsonl") {
      bert::Record scores;
      for (int j = 0; j < L; ++j) scores.add(c.labels[size_t(j)], s[size_t(j)]);
      rec.add("scores", std::move(scores));
    } else if (o.all_scores || c.multi_label) {
      rec.add("scores", std::span<const float>(s));
    }
    line.clear();
    if (o.format == "jsonl")
      bert::append_jsonl(line, rec);
    else
      bert::append_tsv(line, rec);
    out.write(line);
    if (r.last_in_chunk) out.flush();
  };
  run_model_pipeline<std::vector<float>>(o.input, o.model, model, eo, "classify", {}, run_batch, emit, [&] { inf.pack_from_first_call(); });
  out.flush();
}

}  // namespace

void add_classify_command(CLI::App& root) {
  auto o = std::make_shared<ClassifyOptions>();
  CLI::App* app = root.add_subcommand("classify", "Label each input line (or tab-separated pair) with a fine-tuned classifier");
  add_text_input_options(*app, o->input, /*tables=*/true);
  add_model_options(*app, o->model);
  app->add_option("--format", o->format, "Output: tsv (label, score) or jsonl (label, score, scores)")
      ->check(CLI::IsMember({"tsv", "jsonl"}))
      ->capture_default_str();
  app->add_flag("--all-scores", o->all_scores, "tsv: append the score of every label, in label order");
  app->add_flag("--raw", o->raw, "Report logits instead of probabilities");
  app->add_option("--threshold", o->threshold, "Multi-label models: probability at which a label applies")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app->callback([o] { run_classify(*o); });
}

}  // namespace bertctl
