// bertctl encode: an embedding for every input line (cls, mean, max or pooler pooling, optionally
// L2-normalised), or every token's vector with --pooling none; as JSON Lines, TSV or a .npy matrix.
#include <memory>
#include <optional>

#include "command.hpp"
#include "core/file.hpp"
#include "core/output.hpp"
#include "io/npy_writer.hpp"
#include "model/inference.hpp"
#include "model_pipeline.hpp"

namespace bertctl {

namespace {

struct EncodeOptions {
  TextInputOptions input;
  ModelOptions model;
  std::string pooling;            // empty: the model's default
  std::optional<bool> normalize;  // unset: the model's default
  std::string format = "jsonl";
  std::string output;             // -o; required for npy
  bool force = false;
};

struct Embedded {
  std::vector<float> values;  // C, or T×C with --pooling none
};

void run_encode(const EncodeOptions& o) {
  if (o.format == "npy" && o.output.empty())
    bert::fail_usage("--format npy writes a file: give -o FILE (or -o - for standard output)");
  if (!o.output.empty() && !o.force && bert::output_would_replace(o.output))
    bert::fail_usage("{} exists; pass --force to overwrite it", o.output);
  bert::model::Model model = load_model_for(o.model);
  const bert::model::BertConfig& c = model.config;
  const bert::model::Pooling pooling = o.pooling.empty() ? c.pooling : bert::model::parse_pooling(o.pooling);
  const bool normalize = o.normalize.value_or(c.normalize);
  const bool per_token = pooling == bert::model::Pooling::POOLING_NONE;
  if (per_token && o.format != "jsonl") bert::fail_usage("--pooling none gives one vector per token: use --format jsonl");
  if (per_token && o.normalize.value_or(false)) bert::fail_usage("--normalize applies to pooled vectors, not --pooling none");
  if (pooling == bert::model::Pooling::POOLING_POOLER && !c.has_pooler)
    bert::fail_usage("{} has no pooler; choose --pooling cls, mean or max", o.model.model);
  const bert::text::EncodeOptions eo = encode_options_for(o.model, model, "encode");
  bert::model::Inference inf(model);
  const int C = c.hidden_size;
  using Record = PipelineRecord<Embedded>;

  auto run_batch = [&](std::vector<Record*>& batch) {
    std::vector<const bert::text::Encoding*> encodings;
    for (Record* r : batch) encodings.push_back(&r->encoding);
    inf.run(encodings);
    if (per_token) {
      const int T = inf.input().T;
      for (size_t b = 0; b < batch.size(); ++b) {
        const float* h = inf.hidden() + b * T * C;
        batch[b]->result.values.assign(h, h + batch[b]->encoding.ids.size() * C);
      }
      return;
    }
    const std::vector<float> e = inf.embeddings(pooling, normalize);
    for (size_t b = 0; b < batch.size(); ++b) batch[b]->result.values.assign(e.begin() + b * C, e.begin() + (b + 1) * C);
  };

  std::optional<bert::io::NpyWriter> npy;
  std::unique_ptr<bert::AtomicFile> file;
  std::optional<bert::Output> out;
  if (o.format == "npy")
    npy.emplace(o.output, C);
  else if (!o.output.empty() && o.output != "-")
    file = std::make_unique<bert::AtomicFile>(o.output);
  else
    out.emplace();
  std::string line;
  auto write = [&](const std::string& s) { file ? file->write(s) : out->write(s); };
  auto append_vector = [&](const float* v, int n, char sep) {
    for (int i = 0; i < n; ++i) {
      if (i) line += sep;
      bert::append_float(line, v[i]);
    }
  };
  auto emit = [&](Record& r) {
    const std::vector<float>& v = r.result.values;
    if (npy) return npy->write_row(v.data());
    line.clear();
    if (o.format == "tsv") {
      append_vector(v.data(), C, '\t');
    } else if (per_token) {
      line += "{\"tokens\":[";
      for (size_t t = 0; t < r.encoding.ids.size(); ++t) {
        if (t) line += ',';
        bert::append_json_string(line, model.tokenizer->token(r.encoding.ids[t]));
      }
      line += "],\"embeddings\":[";
      for (size_t t = 0; t < r.encoding.ids.size(); ++t) {
        line += t ? ",[" : "[";
        append_vector(v.data() + t * C, C, ',');
        line += ']';
      }
      line += "]}";
    } else {
      line += "{\"embedding\":[";
      append_vector(v.data(), C, ',');
      line += "]}";
    }
    line += '\n';
    write(line);
    if (r.last_in_chunk && out) out->flush();
  };
  run_model_pipeline<Embedded>(o.input, o.model, model, eo, "encode", {}, run_batch, emit, [&] { inf.pack_from_first_call(); });
  if (npy) npy->finish();
  if (file) file->commit();
  if (out) out->flush();
}

}  // namespace

void add_encode_command(CLI::App& root) {
  auto o = std::make_shared<EncodeOptions>();
  CLI::App* app = root.add_subcommand("encode", "Embed each input line: one vector per line (or per token)");
  add_text_input_options(*app, o->input, /*tables=*/true);
  add_model_options(*app, o->model);
  app->add_option("--pooling", o->pooling, "cls, mean, max, pooler or none (per token); default: the model's")
      ->check(CLI::IsMember({"cls", "mean", "max", "pooler", "none"}));
  auto* norm = app->add_flag_function("--normalize", [o](int64_t) { o->normalize = true; },
                                      "L2-normalise each embedding (default: the model's setting)");
  app->add_flag_function("--no-normalize", [o](int64_t) { o->normalize = false; }, "Do not normalise")->excludes(norm);
  app->add_option("--format", o->format, "Output: jsonl, tsv (one vector per line) or npy (an N×H float32 file)")
      ->check(CLI::IsMember({"jsonl", "tsv", "npy"}))
      ->capture_default_str();
  app->add_option("-o,--output", o->output, "Write to FILE instead of standard output (required for npy)");
  app->add_flag("-f,--force", o->force, "Overwrite an existing output file");
  app->callback([o] { run_encode(*o); });
}

}  // namespace bertctl
