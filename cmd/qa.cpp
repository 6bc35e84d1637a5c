// bertctl qa: the answer to a question as a span of its context, from a question-answering model
// (BertForQuestionAnswering), as transformers' question-answering pipeline finds it. Input lines
// are question<TAB>context (or JSONL with question and context fields); contexts longer than one
// window are read in windows that share --doc-stride tokens, exactly as transformers cuts them.
#include <memory>

#include "command.hpp"
#include "core/output.hpp"
#include "core/record.hpp"
#include "model/inference.hpp"
#include "model_pipeline.hpp"
#include "pipeline/question_answering.hpp"
#include "pipeline/windows.hpp"
#include "text/utf8.hpp"
#include "core/file.hpp"             // MemFile
#include "train/task_datasets.hpp"  // read_squad

namespace bertctl {

namespace {

struct QaOptions {
  TextInputOptions input;
  ModelOptions model;
  std::string format = "jsonl";
  bert::pipeline::AnswerOptions answer;
  int doc_stride = -1;  // -1: min(window / 2, 128), as transformers
  std::string offsets = "chars";
};

bert::Record answer_record(const bert::pipeline::Answer& a, const std::vector<uint32_t>* bytes) {
  bert::Record r;
  r.add("score", a.score)
      .add("start", bytes ? (*bytes)[a.start] : a.start)
      .add("end", bytes ? (*bytes)[a.end] : a.end)
      .add("answer", a.text);
  return r;
}

// Tokens of the question in a [CLS] question [SEP] context [SEP] encoding.
size_t question_tokens(const bert::text::Encoding& e) {
  size_t n = 0;
  while (n + 1 < e.type_ids.size() && e.type_ids[n + 1] == 0) ++n;
  return n > 0 ? n - 1 : 0;  // without [CLS] and the first [SEP]
}

// --input-format squad: the questions of SQuAD JSON files become JSON Lines on an in-memory file
// that the pipeline reads like any input; `ids` receives their ids, in order.
bert::MemFile squad_as_jsonl(QaOptions& o, std::vector<std::string>& ids) {
  bert::MemFile file("squad");
  std::string line;
  for (const std::string& path : o.input.inputs.empty() ? std::vector<std::string>{"-"} : o.input.inputs) {
    if (path == "-") bert::fail_usage("--input-format squad reads SQuAD JSON files, not standard input");
    for (const auto& q : bert::train::read_squad(path)) {
      ids.push_back(q.id);
      line.clear();
      bert::append_jsonl(line, bert::Record().add("question", q.question).add("context", q.context));
      file.write(line);
    }
  }
  o.input.inputs = {file.path()};
  o.input.input_format = "jsonl";
  o.input.text_field = "question";
  o.input.pair_field = "context";
  return file;
}

void run_qa(QaOptions o) {
  bert::model::Model model = load_model_for(o.model);
  require_task(model, o.model, bert::model::Task::TASK_QUESTION_ANSWERING, "a question-answering model",
               "fine-tune one with bertctl finetune --task question-answering");
  // transformers' defaults: windows of min(model_max_length, 384) tokens sharing min(window/2, 128).
  const int limit = encode_options_for(o.model, model, "qa").max_length;
  const int window = o.model.max_length > 0 ? limit : std::min(limit, 384);
  const int stride = o.doc_stride >= 0 ? o.doc_stride : std::min(window / 2, 128);
  if (stride >= window) bert::fail_usage("--doc-stride {} must be below the window of {} tokens", stride, window);
  std::vector<std::string> ids;  // --input-format squad: each record's question id
  bert::MemFile squad;
  if (o.input.input_format == "squad") squad = squad_as_jsonl(o, ids);
  bert::text::EncodeOptions eo;
  eo.word_ids = true;
  o.input.keep_texts = true;
  bert::model::Inference inf(model);
  using Record = PipelineRecord<std::vector<bert::pipeline::Answer>>;

  auto accept = [&](const Record& r) -> std::string {
    if (r.text.find_first_not_of(" \t\r\n") == std::string::npos) return "no question before the context";
    if (r.text_b.find_first_not_of(" \t\r\n") == std::string::npos) return "no context after the question";
    const size_t q = question_tokens(r.encoding);
    if (long(window) - long(q) - 3 <= long(stride))
      return fmt::format("the question has {} tokens: no room for the context in windows of {} sharing {}", q, window,
                         stride);
    return "";
  };
  auto run_batch = [&](std::vector<Record*>& batch) {
    std::vector<std::vector<bert::text::Encoding>> windows(batch.size());
    std::vector<const bert::text::Encoding*> all;
    for (size_t b = 0; b < batch.size(); ++b) {
      const bert::text::Encoding& e = batch[b]->encoding;
      windows[b] = e.ids.size() <= size_t(window) ? std::vector<bert::text::Encoding>{e}
                                                  : bert::pipeline::overflow_windows(e, window, stride, true);
      for (const auto& w : windows[b]) all.push_back(&w);
    }
    const std::vector<std::vector<float>> logits = inf.token_logits_of(all, o.model.batch_size);
    size_t k = 0;
    for (size_t b = 0; b < batch.size(); ++b) {
      std::vector<std::vector<float>> starts, ends;
      for (size_t i = 0; i < windows[b].size(); ++i, ++k) {
        std::vector<float>& s = starts.emplace_back();
        std::vector<float>& e = ends.emplace_back();
        for (size_t t = 0; t < logits[k].size(); t += 2) {
          s.push_back(logits[k][t]);
          e.push_back(logits[k][t + 1]);
        }
      }
      batch[b]->result = bert::pipeline::best_answers(batch[b]->text_b, windows[b], starts, ends, o.answer);
    }
  };

  bert::Output out;
  std::string line;
  auto emit = [&](Record& r) {
    line.clear();
    const std::string* id = ids.empty() ? nullptr : &ids.at(size_t(r.line_number - 1));
    if (!r.error.empty()) {
      if (o.format == "jsonl") bert::append_jsonl(line, bert::Record().add("error", r.error));
      else line += '\n';
    } else {
      const std::vector<uint32_t> bytes = bert::text::utf8_char_starts(r.text_b);
      const std::vector<uint32_t>* b = o.offsets == "bytes" ? &bytes : nullptr;
      bert::Record::List answers;
      for (const auto& a : r.result) answers.push_back(answer_record(a, b));
      if (o.format == "jsonl" && id) {  // SQuAD: the question's id with its answer(s)
        bert::Record rec;
        rec.add("id", *id);
        if (o.answer.top_k == 1 && answers.size() == 1)
          for (const auto& f : answers.front().fields()) rec.add_value(f.key, f.value);
        else
          rec.add("answers", std::move(answers));
        bert::append_jsonl(line, rec);
      } else if (o.format == "jsonl" && o.answer.top_k == 1 && answers.size() == 1)
        bert::append_jsonl(line, answers.front());
      else if (o.format == "jsonl")
        bert::append_jsonl(line, answers);
      else {
        // tsv: answer, score, start, end; again for every further answer (after the id for SQuAD).
        bert::Record row;
        if (id) row.add("id", *id);
        for (const auto& a : r.result)
          row.add("answer", a.text).add("score", a.score).add("start", b ? bytes[a.start] : a.start).add(
              "end", b ? bytes[a.end] : a.end);
        bert::append_tsv(line, row);
      }
    }
    out.write(line);
    if (r.last_in_chunk) out.flush();
  };
  const uint64_t errors = run_model_pipeline<std::vector<bert::pipeline::Answer>>(
      o.input, o.model, model, eo, "qa", accept, run_batch, emit, [&] { inf.pack_from_first_call(); });
  out.flush();
  if (errors) bert::fail_input("{} line(s) had no answerable question and context", errors);
}

}  // namespace

void add_qa_command(CLI::App& root) {
  auto o = std::make_shared<QaOptions>();
  o->input.text_field = "question";
  o->input.pair_field = "context";
  CLI::App* app = root.add_subcommand(
      "qa", "Answer each question<TAB>context line with a span of the context (extractive question answering)");
  add_text_input_options(*app, o->input, /*tables=*/true, PairInput::PAIRS_ALWAYS);
  add_model_options(*app, o->model,
                    "Window size in tokens: [CLS] question [SEP] context part [SEP] (default: the model's limit, at "
                    "most 384)");
  app->add_option("--format", o->format,
                  "Output: jsonl (score, start, end, answer; a list with --top-k above 1) or tsv (answer, score, "
                  "start, end per answer)")
      ->check(CLI::IsMember({"jsonl", "tsv"}))
      ->capture_default_str();
  app->add_option("-k,--top-k", o->answer.top_k, "Answers per question, best first")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app->add_option("--max-answer-len", o->answer.max_answer_len, "Longest answer, in tokens")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app->add_option("--doc-stride", o->doc_stride,
                  "Context tokens that consecutive windows share (default: min(window/2, 128))")
      ->check(CLI::NonNegativeNumber);
  app->add_flag("--handle-impossible-answer", o->answer.handle_impossible_answer,
                "Allow the empty answer (score from [CLS]) when no span is likely");
  app->add_option("--offsets", o->offsets, "start/end in characters (as transformers) or bytes of the context")
      ->check(CLI::IsMember({"chars", "bytes"}))
      ->capture_default_str();
  app->callback([o] { run_qa(*o); });
}

}  // namespace bertctl
