// bertctl fill-mask: the top-k predictions for every mask token of each line, like the Hugging Face
// fill-mask pipeline (scores are the softmax over the whole vocabulary at the mask position).
#include <memory>

#include "command.hpp"
#include "core/output.hpp"
#include "core/record.hpp"
#include "model/inference.hpp"
#include "model_pipeline.hpp"

namespace bertctl {

namespace {

struct FillMaskOptions {
  TextInputOptions input;
  ModelOptions model;
  std::string format = "text";
  int top_k = 5;
};

struct Prediction {
  int32_t id;
  float score;
};
struct MaskResult {
  int position;  // token index in the encoding
  std::vector<Prediction> predictions;
};
using Masks = std::vector<MaskResult>;

void run_fill_mask(const FillMaskOptions& o) {
  bert::model::Model model = load_model_for(o.model);
  const bert::model::BertConfig& c = model.config;
  if (!c.has_mlm_head())
    bert::fail_model("{}: {} has no masked-language-model head", o.model.model,
                     c.hf_class());
  const bert::text::Tokenizer& tok = *model.tokenizer;
  if (!tok.mask_id()) bert::fail_model("{}: the vocabulary has no mask token", o.model.model);
  const int32_t mask_id = *tok.mask_id();
  const bert::text::EncodeOptions eo = encode_options_for(o.model, model, "fill-mask");
  bert::model::Inference inf(model);
  const int V = c.vocab_size;
  using Record = PipelineRecord<Masks>;

  auto accept = [&](const Record& r) -> std::string {
    for (int32_t id : r.encoding.ids)
      if (id == mask_id) return "";
    return fmt::format("no {} token in this line{}", tok.config().mask_token,
                       r.encoding.num_tokens_untruncated > r.encoding.ids.size() ? " (after truncation)" : "");
  };
  auto run_batch = [&](std::vector<Record*>& batch) {
    std::vector<const bert::text::Encoding*> encodings;
    std::vector<std::pair<int, int>> positions;
    for (size_t b = 0; b < batch.size(); ++b) {
      encodings.push_back(&batch[b]->encoding);
      const auto& ids = batch[b]->encoding.ids;
      for (size_t t = 0; t < ids.size(); ++t)
        if (ids[t] == mask_id) positions.emplace_back(int(b), int(t));
    }
    inf.run(encodings);
    std::vector<float> logits = inf.mlm_logits(positions);
    for (size_t r = 0; r < positions.size(); ++r) {
      std::span<float> row(logits.data() + r * V, size_t(V));
      const std::vector<int> best = bert::model::top_k(row, o.top_k);
      bert::model::softmax_inplace(row);
      MaskResult m{positions[r].second, {}};
      for (int id : best) m.predictions.push_back({id, row[size_t(id)]});
      batch[size_t(positions[r].first)]->result.push_back(std::move(m));
    }
  };

  bert::Output out;
  std::string line;
  auto emit = [&](Record& r) {
    line.clear();
    if (!r.error.empty()) {
      if (o.format == "jsonl")
        bert::append_jsonl(line, bert::Record().add("error", r.error));
      else
        line += '\n';
      out.write(line);
      if (r.last_in_chunk) out.flush();
      return;
    }
    // The pipeline's `sequence`: this prediction in place of its mask, padding dropped, special
    // tokens skipped only when the text has a single mask (as transformers does).
    const bool single = r.result.size() == 1;
    // An id of the model's padded embedding rows has no token: [UNK], as BertTokenizer decodes it.
    auto known = [&](int32_t id) { return size_t(id) < tok.vocab().size() ? id : tok.unk_id(); };
    auto sequence = [&](int position, int32_t id) {
      std::vector<int32_t> ids = r.encoding.ids;
      ids[size_t(position)] = known(id);
      return tok.decode(ids, single);
    };
    if (o.format == "jsonl") {
      bert::Record::List masks;
      for (const MaskResult& m : r.result) {
        bert::Record::List predictions;
        for (const auto& p : m.predictions)
          predictions.push_back(bert::Record()
                                    .add("token", tok.token(p.id))
                                    .add("id", p.id)
                                    .add("score", p.score)
                                    .add("sequence", sequence(m.position, p.id)));
        masks.push_back(bert::Record().add("position", m.position).add("predictions", std::move(predictions)));
      }
      bert::append_jsonl(line, bert::Record().add("masks", std::move(masks)));
    } else {
      // The text with every mask filled by its best prediction, then per mask "token score ...".
      std::vector<int32_t> filled = r.encoding.ids;
      for (const MaskResult& m : r.result) filled[size_t(m.position)] = known(m.predictions.front().id);
      line += tok.decode(filled, true);
      for (const MaskResult& m : r.result) {
        line += '\t';
        for (size_t p = 0; p < m.predictions.size(); ++p) {
          if (p) line += ' ';
          line += tok.token(m.predictions[p].id);
          line += ' ';
          bert::append_float(line, m.predictions[p].score);
        }
      }
      line += '\n';
    }
    out.write(line);
    if (r.last_in_chunk) out.flush();
  };
  const uint64_t errors =
      run_model_pipeline<Masks>(o.input, o.model, model, eo, "fill-mask", accept, run_batch, emit, [&] { inf.pack_from_first_call(); });
  out.flush();
  if (errors) bert::fail_input("{} line(s) had no {} token", errors, tok.config().mask_token);
}

}  // namespace

void add_fill_mask_command(CLI::App& root) {
  auto o = std::make_shared<FillMaskOptions>();
  CLI::App* app = root.add_subcommand("fill-mask", "Predict the masked tokens of each line ([MASK] in the text)");
  add_text_input_options(*app, o->input, /*tables=*/true);
  add_model_options(*app, o->model);
  app->add_option("-k,--top-k", o->top_k, "Predictions per mask")->check(CLI::Range(1, 1000))->capture_default_str();
  app->add_option("--format", o->format, "Output: text (filled text, then 'token score' per mask) or jsonl")
      ->check(CLI::IsMember({"text", "jsonl"}))
      ->capture_default_str();
  app->callback([o] { run_fill_mask(*o); });
}

}  // namespace bertctl
