// bertctl ner: the named entities of every input line from a token classifier
// (BertForTokenClassification), as transformers' token-classification pipeline finds them. Lines
// longer than the model's window are read in overlapping windows (--stride); entities that windows
// share are resolved as the pipeline does with a stride (the longer wins, then the higher score).
#include <memory>

#include "command.hpp"
#include "core/output.hpp"
#include "core/record.hpp"
#include "model/inference.hpp"
#include "model_pipeline.hpp"
#include "pipeline/token_classification.hpp"
#include "pipeline/windows.hpp"
#include "text/utf8.hpp"

namespace bertctl {

namespace {

namespace pl = bert::pipeline;

struct NerOptions {
  TextInputOptions input;
  ModelOptions model;
  std::string format = "jsonl";
  std::string aggregation = "simple";
  std::vector<std::string> ignore_labels = {"O"};
  std::string offsets = "chars";
  int stride = -1;  // -1: a quarter of the window
  bool truncate = false;
};

struct NerResult {
  std::vector<pl::Entity> entities;
  std::vector<pl::WordTag> words;  // conll only
};

// The entities as JSONL records with the pipeline's field names.
bert::Record::List entity_records(const std::vector<pl::Entity>& entities, bool per_token,
                                  const std::vector<uint32_t>* bytes) {
  bert::Record::List out;
  for (const pl::Entity& e : entities) {
    bert::Record& r = out.emplace_back();
    r.add(per_token ? "entity" : "entity_group", e.label).add("score", e.score);
    if (per_token) r.add("index", e.index);
    r.add("word", e.word)
        .add("start", bytes ? (*bytes)[e.start] : e.start)
        .add("end", bytes ? (*bytes)[e.end] : e.end);
  }
  return out;
}

// The line with each entity marked: "[John Smith](PER) lives in [New York](LOC)".
std::string annotated(std::string_view text, const std::vector<pl::Entity>& entities,
                      const std::vector<uint32_t>& bytes) {
  std::string out;
  uint32_t at = 0;
  for (const pl::Entity& e : entities) {
    const uint32_t from = bytes[e.start], to = bytes[e.end];
    if (from < at) continue;  // overlaps the previous one (only per-token entities can)
    out.append(text.substr(at, from - at)).append("[").append(text.substr(from, to - from)).append("](");
    out.append(e.label).append(")");
    at = to;
  }
  out.append(text.substr(at));
  for (char& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  return out;
}

void run_ner(NerOptions o) {
  bert::model::Model model = load_model_for(o.model);
  const bert::model::BertConfig& c = model.config;
  require_task(model, o.model, bert::model::Task::TASK_TOKEN_CLASSIFICATION, "a token classifier",
               "fine-tune one with bertctl finetune --task token-classification");
  const pl::Aggregation aggregation = pl::parse_aggregation(o.aggregation);
  // Whole lines are tokenized; the windows are cut here.
  const int window = encode_options_for(o.model, model, "ner").max_length;
  const int stride = o.stride >= 0 ? o.stride : window / 4;
  if (!o.truncate && aggregation == pl::Aggregation::AGG_NONE && o.stride > 0)
    std::fprintf(stderr, "bertctl: ner: note: per-token entities of overlapping windows are resolved like words\n");
  bert::text::EncodeOptions eo;
  eo.word_ids = true;
  o.input.keep_texts = true;
  bert::model::Inference inf(model);
  const bert::text::Tokenizer& tok = *model.tokenizer;
  using Record = PipelineRecord<NerResult>;
  uint64_t truncated = 0;

  auto run_batch = [&](std::vector<Record*>& batch) {
    std::vector<std::vector<bert::text::Encoding>> windows(batch.size());
    std::vector<std::vector<size_t>> shifts(batch.size());
    std::vector<const bert::text::Encoding*> all;
    for (size_t b = 0; b < batch.size(); ++b) {
      const bert::text::Encoding& e = batch[b]->encoding;
      if (e.ids.size() <= size_t(window)) {
        windows[b] = {e};
        shifts[b] = {0};
      } else {
        windows[b] = pl::overflow_windows(e, window, std::min(stride, window - 3), false, &shifts[b]);
        if (o.truncate) {
          windows[b].resize(1);
          ++truncated;
        }
      }
      for (const auto& w : windows[b]) all.push_back(&w);
    }
    const std::vector<std::vector<float>> logits = inf.token_logits_of(all, o.model.batch_size);
    size_t k = 0;
    for (size_t b = 0; b < batch.size(); ++b) {
      std::vector<std::vector<float>> probs;
      for (const auto& w : windows[b]) probs.push_back(pl::token_probabilities(logits[k++], int(w.ids.size()), c.num_labels()));
      NerResult& r = batch[b]->result;
      r.entities = pl::text_entities(batch[b]->text, windows[b], shifts[b], probs, c.labels, tok, aggregation,
                                     o.ignore_labels);
      if (o.format == "conll") r.words = pl::text_word_tags(windows[b], probs, c.labels, aggregation);
    }
  };

  bert::Output out;
  std::string line;
  auto emit = [&](Record& r) {
    line.clear();
    const std::vector<uint32_t> bytes = bert::text::utf8_char_starts(r.text);
    if (o.format == "jsonl") {
      bert::append_jsonl(line, entity_records(r.result.entities, aggregation == pl::Aggregation::AGG_NONE,
                                              o.offsets == "bytes" ? &bytes : nullptr));
    } else if (o.format == "text") {
      line += annotated(r.text, r.result.entities, bytes);
      line += '\n';
    } else {
      std::vector<std::pair<std::string, std::string>> rows;
      for (const pl::WordTag& w : r.result.words)
        rows.emplace_back(r.text.substr(bytes[w.start], bytes[w.end] - bytes[w.start]), w.tag);
      bert::append_conll(line, rows);
    }
    out.write(line);
    if (r.last_in_chunk) out.flush();
  };
  run_model_pipeline<NerResult>(o.input, o.model, model, eo, "ner", {}, run_batch, emit,
                                [&] { inf.pack_from_first_call(); });
  out.flush();
  if (truncated)
    std::fprintf(stderr, "bertctl: ner: warning: %llu line(s) longer than %d tokens were truncated (--truncate)\n",
                 static_cast<unsigned long long>(truncated), window);
}

}  // namespace

void add_ner_command(CLI::App& root) {
  auto o = std::make_shared<NerOptions>();
  CLI::App* app = root.add_subcommand("ner", "Named entities of each input line, from a token classifier");
  add_text_input_options(*app, o->input, /*tables=*/true, PairInput::PAIRS_NONE);
  add_model_options(*app, o->model, "Window size in tokens, special tokens included (default: the model's limit)");
  app->add_option("--format", o->format,
                  "Output: jsonl (a list of entities per line), text (the line with [entity](TYPE) marks) or "
                  "conll (word<TAB>tag per word, a blank line after each input)")
      ->check(CLI::IsMember({"jsonl", "text", "conll"}))
      ->capture_default_str();
  app->add_option("--aggregation", o->aggregation,
                  "How tokens become entities, as transformers' aggregation_strategy: none (per token), simple, "
                  "first, average or max (per word)")
      ->check(CLI::IsMember({"none", "simple", "first", "average", "max"}))
      ->capture_default_str();
  app->add_option("--ignore-labels", o->ignore_labels, "Labels (or entity groups) not reported")
      ->delimiter(',')
      ->capture_default_str();
  app->add_option("--offsets", o->offsets, "start/end in characters (as transformers) or bytes of the line")
      ->check(CLI::IsMember({"chars", "bytes"}))
      ->capture_default_str();
  app->add_option("--stride", o->stride,
                  "Tokens that consecutive windows of a long line share (default: a quarter of the window)")
      ->check(CLI::NonNegativeNumber);
  app->add_flag("--truncate", o->truncate, "Read only the first window of a long line (transformers' default)");
  app->callback([o] { run_ner(*o); });
}

}  // namespace bertctl
