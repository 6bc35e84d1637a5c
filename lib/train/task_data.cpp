#include "train/task_data.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <numeric>

#include "pipeline/question_answering.hpp"  // best_answers
#include "train/evaluation.hpp"             // tokenize_labelled, evaluate_classifier
#include "train/task_metrics.hpp"           // entity_scores, squad_scores
#include "train/loss.hpp"                  // task_loss

namespace bert::train {

namespace {

uint64_t fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return (h ^ 0xff) * 0x100000001b3ull;  // a separator, so ("ab","c") != ("a","bc")
}

std::map<std::string, int32_t> label_ids(const model::Model& m) {
  std::map<std::string, int32_t> ids;
  for (size_t i = 0; i < m.config.labels.size(); ++i) ids[m.config.labels[i]] = int32_t(i);
  return ids;
}

}  // namespace

std::vector<std::vector<float>> predict_features(const model::BertConfig& c, const HeadLogits& logits_of,
                                                 const std::vector<Feature>& features, int batch_size,
                                                 double* mean_loss) {
  const size_t n = features.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return features[a].encoding.ids.size() > features[b].encoding.ids.size();
  });
  const bool per_token = c.spec().head_input == model::HeadInput::HEAD_INPUT_TOKENS;
  const size_t N = size_t(c.head_outputs());
  std::vector<std::vector<float>> out(n);
  double loss_sum = 0, weight_sum = 0;
  for (size_t start = 0; start < n; start += size_t(batch_size)) {
    const size_t end = std::min(n, start + size_t(batch_size));
    std::vector<const text::Encoding*> encodings;
    std::vector<const Feature*> batch;
    for (size_t i = start; i < end; ++i) {
      batch.push_back(&features[order[i]]);
      encodings.push_back(&features[order[i]].encoding);
    }
    const model::EncoderInput input = model::make_encoder_input(encodings, c.pad_token_id);
    const std::vector<float> logits = logits_of(input);
    std::vector<float> scratch(logits.size());
    const std::vector<int32_t> labels = batch_labels(c.task, batch, input.T);
    // The batch's mean, weighted by what it averages over (labelled tokens, or sequences), so the
    // mean does not depend on the batch size.
    const double weight = c.task == model::Task::TASK_TOKEN_CLASSIFICATION
                              ? double(std::count_if(labels.begin(), labels.end(), [](int32_t y) { return y >= 0; }))
                              : double(end - start);
    loss_sum += task_loss(c, scratch, logits, input.B, input.T, labels) * weight;
    weight_sum += weight;
    for (size_t i = start; i < end; ++i) {
      const size_t rows = per_token ? features[order[i]].encoding.ids.size() : 1;
      const size_t at = (i - start) * (per_token ? size_t(input.T) : 1) * N;
      out[order[i]].assign(logits.begin() + long(at), logits.begin() + long(at + rows * N));
    }
  }
  if (mean_loss) *mean_loss = weight_sum > 0 ? loss_sum / weight_sum : 0;
  return out;
}

TaskData classification_data(const model::Model& model, const std::vector<Example>& train,
                             const std::vector<Example>& eval, int max_length) {
  TaskData d;
  LabelledTexts tr = tokenize_labelled(model, train, max_length, "training data");
  auto ev = std::make_shared<LabelledTexts>(tokenize_labelled(model, eval, max_length, "evaluation data"));
  for (size_t i = 0; i < tr.texts.size(); ++i) {
    d.truncated += tr.texts[i].num_tokens_untruncated > tr.texts[i].ids.size();
    d.train.push_back({std::move(tr.texts[i]), {tr.labels[i]}, uint32_t(i)});
  }
  for (size_t i = 0; i < ev->texts.size(); ++i) d.eval.push_back({ev->texts[i], {ev->labels[i]}, uint32_t(i)});
  for (const Example& e : train) d.hash = fnv1a(fnv1a(fnv1a(d.hash, e.text), e.text_pair), e.label);
  d.examples = train.size();
  const int L = model.config.num_labels();
  const int32_t pad = model.config.pad_token_id;
  d.evaluate = [ev, L, pad](const HeadLogits& logits_of, const std::vector<Feature>&, int batch_size) {
    return evaluate_classifier(
        ev->texts, ev->labels, batch_size,
        [&](const std::vector<const text::Encoding*>& batch) { return logits_of(model::make_encoder_input(batch, pad)); },
        L);
  };
  return d;
}

TaskData token_classification_data(const model::Model& model, const std::vector<TaggedSentence>& train,
                                   const std::vector<TaggedSentence>& eval, int max_length) {
  TaskData d;
  const auto ids = label_ids(model);
  for (size_t i = 0; i < train.size(); ++i) {
    d.train.push_back(token_feature(*model.tokenizer, train[i], ids, max_length));
    d.train.back().example = uint32_t(i);
    d.truncated += d.train.back().encoding.num_tokens_untruncated > d.train.back().encoding.ids.size();
    for (size_t w = 0; w < train[i].words.size(); ++w) d.hash = fnv1a(fnv1a(d.hash, train[i].words[w]), train[i].tags[w]);
  }
  d.examples = train.size();
  // Each evaluation word is tagged by its first piece; a word cut off by max_length is tagged O.
  auto first_pieces = std::make_shared<std::vector<std::vector<int32_t>>>();
  for (size_t i = 0; i < eval.size(); ++i) {
    d.eval.push_back(token_feature(*model.tokenizer, eval[i], ids, max_length, &first_pieces->emplace_back()));
    d.eval.back().example = uint32_t(i);
  }
  auto gold = std::make_shared<std::vector<std::vector<std::string>>>();
  for (const TaggedSentence& s : eval) gold->push_back(s.tags);
  d.evaluate = [first_pieces, gold, config = model.config](const HeadLogits& logits_of,
                                                          const std::vector<Feature>& eval_features, int batch_size) {
    const std::vector<std::string>& labels = config.labels;
    Metrics m;
    const std::vector<std::vector<float>> logits =
        predict_features(config, logits_of, eval_features, batch_size, &m.loss);
    const size_t L = labels.size();
    std::vector<std::vector<std::string>> predicted;
    size_t words = 0, right = 0;
    for (size_t i = 0; i < eval_features.size(); ++i) {
      std::vector<std::string>& tags = predicted.emplace_back();
      for (size_t w = 0; w < (*first_pieces)[i].size(); ++w) {
        const int32_t t = (*first_pieces)[i][w];
        std::string tag = "O";
        if (t >= 0) {
          const float* row = logits[i].data() + size_t(t) * L;
          tag = labels[size_t(std::max_element(row, row + L) - row)];
        }
        right += tag == (*gold)[i][w];
        ++words;
        tags.push_back(std::move(tag));
      }
    }
    m.entities = entity_scores(*gold, predicted);
    m.accuracy = words ? double(right) / double(words) : 0;  // per word
    m.count = int64_t(eval_features.size());
    return m;
  };
  return d;
}

TaskData question_answering_data(const model::Model& model, const std::vector<SquadQuestion>& train,
                                 const std::vector<SquadQuestion>& eval, int max_length, int doc_stride) {
  TaskData d;
  for (size_t i = 0; i < train.size(); ++i) {
    for (Feature& f : qa_features(*model.tokenizer, train[i], max_length, doc_stride, uint32_t(i)))
      d.train.push_back(std::move(f));
    d.hash = fnv1a(fnv1a(fnv1a(d.hash, train[i].question), train[i].context),
                   train[i].answers.empty() ? "" : train[i].answers[0].text);
  }
  d.examples = train.size();
  for (size_t i = 0; i < eval.size(); ++i)
    for (Feature& f : qa_features(*model.tokenizer, eval[i], max_length, doc_stride, uint32_t(i)))
      d.eval.push_back(std::move(f));
  auto questions = std::make_shared<std::vector<SquadQuestion>>(eval);
  d.evaluate = [questions, config = model.config](const HeadLogits& logits_of,
                                                  const std::vector<Feature>& eval_features, int batch_size) {
    Metrics m;
    const std::vector<std::vector<float>> logits =
        predict_features(config, logits_of, eval_features, batch_size, &m.loss);
    // The windows of each question, through the pipeline's answer search (run_qa.py's
    // max_answer_length 30).
    std::vector<std::string> predictions(questions->size());
    std::vector<std::vector<std::string>> gold(questions->size());
    for (size_t q = 0, i = 0; q < questions->size(); ++q) {
      std::vector<text::Encoding> windows;
      std::vector<std::vector<float>> starts, ends;
      for (; i < eval_features.size() && eval_features[i].example == q; ++i) {
        windows.push_back(eval_features[i].encoding);
        std::vector<float>& s = starts.emplace_back();
        std::vector<float>& e = ends.emplace_back();
        for (size_t t = 0; t < logits[i].size(); t += 2) {
          s.push_back(logits[i][t]);
          e.push_back(logits[i][t + 1]);
        }
      }
      pipeline::AnswerOptions o;
      o.max_answer_len = 30;
      const auto answers = pipeline::best_answers((*questions)[q].context, windows, starts, ends, o);
      if (!answers.empty()) predictions[q] = answers.front().text;
      for (const SquadAnswer& a : (*questions)[q].answers) gold[q].push_back(a.text);
    }
    m.squad = squad_scores(predictions, gold);
    m.count = int64_t(questions->size());
    return m;
  };
  return d;
}

}  // namespace bert::train
