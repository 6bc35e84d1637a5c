// The pipeline behind encode, classify and fill-mask: read lines, tokenize them on a worker thread
// while the model works, group texts of similar length into batches (less padding), run the
// command's model step on each batch, and hand every record back in input order.
//
//   run_model_pipeline<Scores>(input, model_options, tokenizer,
//       [&](std::vector<PipelineRecord<Scores>*>& batch) { ...fill r->result... },
//       [&](PipelineRecord<Scores>& r) { ...write one output line... });
#pragma once
#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/error.hpp"
#include "core/line_reader.hpp"
#include "core/ordered_workers.hpp"
#include "model/model.hpp"
#include "text/tokenizer.hpp"
#include "text_input.hpp"

namespace bertctl {

struct ModelOptions {
  std::string model;
  int batch_size = 32;
  int max_length = 0;  // 0: the model's limit
  int threads = 1;
};

// `max_length_help` replaces the help of --max-length (commands that read long texts in windows).
void add_model_options(CLI::App& app, ModelOptions& o, const char* max_length_help = nullptr);

// Fails with ERROR_MODEL unless the model carries `task`'s head: "MODEL: CLASS is not WHAT; HOW".
void require_task(const bert::model::Model& m, const ModelOptions& o, bert::model::Task task, const char* what,
                  const char* how);

// Loads the model named by -m (a model file, or a Hugging Face directory converted on the fly) and
// gives oneDNN the thread count.
bert::model::Model load_model_for(const ModelOptions& o);

// The encode options for this model: max length = --max-length, else the tokenizer's
// model_max_length, never beyond the position embeddings (a longer --max-length is clamped with a
// warning on stderr).
bert::text::EncodeOptions encode_options_for(const ModelOptions& o, const bert::model::Model& m, const char* command);

template <class Result>
struct PipelineRecord {
  std::string source;        // input name, for messages
  uint64_t line_number = 0;
  bert::text::Encoding encoding;
  std::string error;         // set by `accept`: this line gets an error record, the run exits 1
  bool last_in_chunk = false;  // the last record of what one read gave: flush here (pipes answer now)
  std::string text, text_b;  // the line's text(s), with TextInputOptions::keep_texts
  Result result{};
};

// Counts and reports truncated inputs: the first one by line, then a total at the end.
class TruncationReport {
 public:
  explicit TruncationReport(const char* command, int max_length) : command_(command), max_length_(max_length) {}
  ~TruncationReport();
  void note(const std::string& source, uint64_t line, size_t tokens);

 private:
  const char* command_;
  int max_length_;
  uint64_t count_ = 0;
};

// Runs the pipeline. `accept` (optional) returns an error for a record the model must skip (it
// still reaches `emit`, with `error` set). A fatal input error (invalid UTF-8, bad JSON) stops the
// run after every earlier line was emitted. `many_batches` (optional) is called before the first
// batch when the first chunk of input already holds more than one batch (then weights are packed at
// once, so every batch of the run takes the same kernels). Returns the number of records with an error.
template <class Result>
uint64_t run_model_pipeline(const TextInputOptions& input, const ModelOptions& mo, const bert::model::Model& model,
                            const bert::text::EncodeOptions& eo, const char* command,
                            const std::function<std::string(const PipelineRecord<Result>&)>& accept,
                            const std::function<void(std::vector<PipelineRecord<Result>*>&)>& run_batch,
                            const std::function<void(PipelineRecord<Result>&)>& emit,
                            const std::function<void()>& many_batches = {}) {
  struct Chunk {
    std::vector<PipelineRecord<Result>> records;
    std::string fatal;  // the first fatal error; records stop before it
  };
  const bert::text::Tokenizer& tok = *model.tokenizer;
  TruncationReport truncation(command, eo.max_length);
  TableColumns columns;  // csv/tsv: each input's header, read on this thread before its lines go out
  const bool table = is_table(input);
  auto tokenize = [&](bert::LineBatch& lines) {
    Chunk c;
    const size_t header = table && lines.first_line == 1 && lines.size() > 0 ? 1 : 0;  // not a record
    c.records.resize(lines.size() - header);
    LineTexts texts;
    for (size_t i = header; i < lines.size(); ++i) {
      PipelineRecord<Result>& r = c.records[i - header];
      r.source = lines.source;
      r.line_number = lines.line_number(i);
      if (std::string err = read_batch_line_texts(input, lines, i, texts, &columns); !err.empty()) {
        c.fatal = fmt::format("{}:{}: {}", lines.source, r.line_number, err);
        c.records.resize(i - header);
        break;
      }
      if (input.keep_texts) {
        r.text = texts.a;
        r.text_b = texts.b;
      }
      if (input.pair)
        tok.encode_pair_into(texts.a, texts.b, eo, r.encoding);
      else
        tok.encode_into(texts.a, eo, r.encoding);
    }
    return c;
  };
  uint64_t errors = 0;
  bool first_chunk = true;
  auto process = [&](Chunk& c) {
    // Longest first into batches of similar length; results land in each record.
    std::vector<PipelineRecord<Result>*> order;
    for (auto& r : c.records) {
      if (r.encoding.num_tokens_untruncated > r.encoding.ids.size())
        truncation.note(r.source, r.line_number, r.encoding.num_tokens_untruncated);
      if (accept) r.error = accept(r);
      if (r.error.empty()) order.push_back(&r);
    }
    std::stable_sort(order.begin(), order.end(), [](const auto* x, const auto* y) {
      return x->encoding.ids.size() > y->encoding.ids.size();
    });
    if (first_chunk && many_batches && order.size() > size_t(mo.batch_size)) many_batches();
    first_chunk = false;
    for (size_t start = 0; start < order.size(); start += size_t(mo.batch_size)) {
      std::vector<PipelineRecord<Result>*> batch(order.begin() + start,
                                                 order.begin() + std::min(order.size(), start + size_t(mo.batch_size)));
      run_batch(batch);
    }
    if (!c.records.empty()) c.records.back().last_in_chunk = true;
    for (auto& r : c.records) {
      if (!r.error.empty()) {
        ++errors;
        std::fprintf(stderr, "bertctl: %s: %s:%llu: %s\n", command, r.source.c_str(),
                     static_cast<unsigned long long>(r.line_number), r.error.c_str());
      }
      emit(r);
    }
    if (!c.fatal.empty()) throw bert::Error(bert::ErrorKind::ERROR_INPUT, c.fatal);
  };
  // Two low-priority tokenizing threads keep ahead of the model, which runs here on oneDNN's threads
  // and so never waits for the cores it was given.
  bert::OrderedWorkers<bert::LineBatch, Chunk> pool(2, tokenize, process, 4, /*background=*/true);
  bert::LineReader reader(input.inputs, input.max_line_bytes);
  bert::LineBatch lines;
  // Lines sorted together by length: on mixed text a window of 1,024 lines leaves about 3% padding
  // (256: 9%, batches in input order: 31%). A pipe's lines come as they arrive, in smaller chunks.
  const size_t chunk_lines = size_t(std::max(mo.batch_size * 32, 1024));
  while (reader.next_batch(lines, chunk_lines, 1 << 20)) {
    if (table && lines.first_line == 1 && lines.size() > 0) columns.read_header(input, lines.source, lines.line(0));
    pool.submit(std::move(lines));
    if (!reader.input_ready()) pool.emit_all();  // a pipe waiting for its writer: answer what came
  }
  pool.finish();
  report_cut_lines(command, reader);
  return errors;
}

}  // namespace bertctl
