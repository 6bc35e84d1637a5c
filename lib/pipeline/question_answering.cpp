#include "pipeline/question_answering.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "text/utf8.hpp"  // utf8_char_starts

namespace bert::pipeline {

namespace {

// Softmax over a window with the disallowed positions at -10000, in float32 as numpy does it.
std::vector<float> masked_softmax(std::span<const float> logits, const std::vector<bool>& allowed) {
  std::vector<float> p(logits.size());
  float mx = -INFINITY;
  for (size_t i = 0; i < p.size(); ++i) mx = std::max(mx, p[i] = allowed[i] ? logits[i] : -10000.f);
  double sum = 0;
  for (float& v : p) sum += (v = std::exp(v - mx));
  for (float& v : p) v = float(v / sum);
  return p;
}

// First character of the context token span of word `word` in window `w` (or its end with `last`).
bool word_chars(const text::Encoding& w, int32_t word, uint32_t& start, uint32_t& end) {
  bool found = false;
  for (size_t t = 0; t < w.ids.size(); ++t)
    if (w.type_ids[t] == 1 && w.word_ids[t] == word) {
      if (!found) start = w.offsets[t].first;
      end = w.offsets[t].second;
      found = true;
    }
  return found;
}

// text[start, end) in characters; `at` is utf8_char_starts(text).
std::string slice_chars(std::string_view text, const std::vector<uint32_t>& at, uint32_t start, uint32_t end) {
  const size_t n = at.size() - 1;
  start = uint32_t(std::min<size_t>(start, n));
  end = uint32_t(std::min<size_t>(std::max(start, end), n));
  return std::string(text.substr(at[start], at[end] - at[start]));
}

}  // namespace

std::vector<Answer> best_answers(std::string_view context, const std::vector<text::Encoding>& windows,
                                 const std::vector<std::vector<float>>& start_logits,
                                 const std::vector<std::vector<float>>& end_logits, const AnswerOptions& o) {
  std::vector<Answer> answers;
  float null_score = 1e6f;
  const std::vector<uint32_t> chars = text::utf8_char_starts(context);
  for (size_t k = 0; k < windows.size(); ++k) {
    const text::Encoding& w = windows[k];
    const size_t T = w.ids.size();
    // p_mask: everything but the context and [CLS]; padding too.
    std::vector<bool> allowed(T);
    for (size_t t = 0; t < T; ++t)
      allowed[t] = w.attention_mask[t] && (t == 0 || (w.type_ids[t] == 1 && w.word_ids[t] >= 0));
    std::vector<float> ps = masked_softmax(start_logits[k], allowed), pe = masked_softmax(end_logits[k], allowed);
    if (o.handle_impossible_answer) null_score = std::min(null_score, ps[0] * pe[0]);
    ps[0] = pe[0] = 0.f;
    // Every (s, e) of the T×T matrix, 0 outside s ≤ e < s + max_answer_len; the top_k by score
    // (ties by position), then those that start or end outside the context dropped.
    std::vector<float> score(T * T, 0.f);
    for (size_t s = 0; s < T; ++s)
      for (size_t e = s; e < std::min(T, s + size_t(std::max(o.max_answer_len, 1))); ++e) score[s * T + e] = ps[s] * pe[e];
    std::vector<size_t> order(T * T);
    std::iota(order.begin(), order.end(), 0);
    const size_t k_take = std::min(order.size(), size_t(std::max(o.top_k, 1)));
    std::partial_sort(order.begin(), order.begin() + long(k_take), order.end(),
                      [&](size_t a, size_t b) { return score[a] > score[b] || (score[a] == score[b] && a < b); });
    for (size_t i = 0; i < k_take; ++i) {
      const size_t s = order[i] / T, e = order[i] % T;
      if (!allowed[s] || !allowed[e]) continue;
      Answer a;
      a.score = score[order[i]];
      uint32_t unused;
      if (w.word_ids[s] < 0 || w.word_ids[e] < 0 || !word_chars(w, w.word_ids[s], a.start, unused) ||
          !word_chars(w, w.word_ids[e], unused, a.end)) {
        a.start = w.offsets[s].first;
        a.end = w.offsets[e].second;
      }
      a.text = slice_chars(context, chars, a.start, a.end);
      answers.push_back(std::move(a));
    }
  }
  if (o.handle_impossible_answer) answers.push_back({null_score, 0, 0, ""});
  std::stable_sort(answers.begin(), answers.end(), [](const Answer& a, const Answer& b) { return a.score > b.score; });
  if (answers.size() > size_t(std::max(o.top_k, 1))) answers.resize(size_t(std::max(o.top_k, 1)));
  return answers;
}

}  // namespace bert::pipeline
