#include "train/task_features.hpp"

#include "core/error.hpp"         // fail_input
#include "pipeline/windows.hpp"   // overflow_windows
#include "text/utf8.hpp"          // utf8_count
#include "train/trainer.hpp"      // kIgnoreLabel

namespace bert::train {

Feature token_feature(const text::Tokenizer& tok, const TaggedSentence& s, const std::map<std::string, int32_t>& ids,
                      int max_length, std::vector<int32_t>* first_piece) {
  Feature f;
  text::Encoding& e = f.encoding;
  auto push = [&](int32_t id, int32_t label, int32_t word) {
    e.ids.push_back(id);
    e.type_ids.push_back(0);
    e.attention_mask.push_back(1);
    e.offsets.push_back({0, 0});
    e.word_ids.push_back(word);
    f.labels.push_back(label);
  };
  if (first_piece) first_piece->assign(s.words.size(), -1);
  push(tok.cls_id(), kIgnoreLabel, -1);
  text::EncodeOptions bare;
  bare.add_special_tokens = false;
  const size_t budget = max_length > 2 ? size_t(max_length) - 2 : 0;
  size_t total = 2;
  for (size_t w = 0; w < s.words.size(); ++w) {
    const text::Encoding piece = tok.encode(s.words[w], bare);
    total += piece.ids.size();
    for (size_t k = 0; k < piece.ids.size() && e.ids.size() - 1 < budget; ++k) {
      if (k == 0 && first_piece) (*first_piece)[w] = int32_t(e.ids.size());
      int32_t label = kIgnoreLabel;
      if (k == 0) {
        auto it = ids.find(s.tags[w]);
        if (it == ids.end()) fail_input("sentence at line {}: tag '{}' is not one of the model's labels", s.line, s.tags[w]);
        label = it->second;
      }
      push(piece.ids[k], label, int32_t(w));
    }
  }
  push(tok.sep_id(), kIgnoreLabel, -1);
  e.num_tokens_untruncated = total;
  return f;
}

std::vector<Feature> qa_features(const text::Tokenizer& tok, const SquadQuestion& q, int max_length, int doc_stride,
                                 uint32_t example) {
  text::EncodeOptions eo;
  eo.word_ids = true;
  const text::Encoding full = tok.encode_pair(q.question, q.context, eo);
  std::vector<text::Encoding> windows =
      full.ids.size() <= size_t(max_length) ? std::vector<text::Encoding>{full}
                                            : pipeline::overflow_windows(full, max_length, doc_stride, true);
  std::vector<Feature> out;
  const bool answered = !q.answers.empty();
  const uint32_t start_char = answered ? q.answers[0].start : 0;
  const uint32_t end_char = answered ? start_char + uint32_t(text::utf8_count(q.answers[0].text)) : 0;
  for (text::Encoding& w : windows) {
    Feature f;
    f.example = example;
    int32_t start = 0, end = 0;
    // The context's first and last tokens in this window.
    size_t first = 0, last = w.ids.size() - 1;
    while (first < w.ids.size() && !(w.type_ids[first] == 1 && w.word_ids[first] >= 0)) ++first;
    while (last > 0 && !(w.type_ids[last] == 1 && w.word_ids[last] >= 0)) --last;
    if (answered && first <= last && w.offsets[first].first <= start_char && w.offsets[last].second >= end_char) {
      // run_qa.py walks past the tokens that start at or before the answer (stopping at the
      // context's end here, where run_qa.py would run on into [SEP]), and back over those that end
      // at or after it.
      size_t s = first;
      while (s <= last && w.offsets[s].first <= start_char) ++s;
      size_t e = last;
      while (e > first && w.offsets[e].second >= end_char) --e;
      start = int32_t(s - 1);
      end = int32_t(w.offsets[e].second >= end_char ? e : e + 1);
    }
    f.labels = {start, end};
    f.encoding = std::move(w);
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<int32_t> batch_labels(model::Task task, const std::vector<const Feature*>& batch, int T) {
  std::vector<int32_t> out;
  for (const Feature* f : batch) {
    if (task == model::Task::TASK_TOKEN_CLASSIFICATION) {
      out.insert(out.end(), f->labels.begin(), f->labels.end());
      out.resize(out.size() + size_t(T) - f->labels.size(), kIgnoreLabel);
    } else {
      out.insert(out.end(), f->labels.begin(), f->labels.end());
    }
  }
  return out;
}

}  // namespace bert::train
