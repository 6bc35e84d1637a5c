#include "pipeline/windows.hpp"

#include "core/error.hpp"  // fail_usage, fail_input

namespace bert::pipeline {

namespace {

// Appends tokens [from, to) of `src` to `dst`.
void append_tokens(text::Encoding& dst, const text::Encoding& src, size_t from, size_t to) {
  dst.ids.insert(dst.ids.end(), src.ids.begin() + long(from), src.ids.begin() + long(to));
  dst.type_ids.insert(dst.type_ids.end(), src.type_ids.begin() + long(from), src.type_ids.begin() + long(to));
  dst.attention_mask.insert(dst.attention_mask.end(), src.attention_mask.begin() + long(from),
                            src.attention_mask.begin() + long(to));
  dst.offsets.insert(dst.offsets.end(), src.offsets.begin() + long(from), src.offsets.begin() + long(to));
  if (!src.word_ids.empty())
    dst.word_ids.insert(dst.word_ids.end(), src.word_ids.begin() + long(from), src.word_ids.begin() + long(to));
}

}  // namespace

std::vector<text::Encoding> overflow_windows(const text::Encoding& full, int max_length, int stride, bool second_only,
                                             std::vector<size_t>* shifts) {
  const size_t total = full.ids.size();
  BERT_CHECK(total >= (second_only ? 3u : 2u));
  // The cut segment is [first, last) of `full`; what precedes it ([CLS], the question and its [SEP])
  // and the final [SEP] go into every window.
  size_t first = 1;
  if (second_only)
    while (first < total && full.type_ids[first] == 0) ++first;
  const size_t last = total - 1;
  const long budget = long(max_length) - long(first) - 1;
  if (budget <= 0)
    fail_input("the question has {} tokens, which leaves no room for the context in {} tokens", first - 2,
               max_length);
  if (stride < 0 || stride >= budget)
    fail_usage("stride {} must be below the {} tokens a window holds", stride, budget);
  const size_t n = last - first, B = size_t(budget), step = size_t(budget - stride);
  std::vector<text::Encoding> out;
  if (shifts) shifts->clear();
  for (size_t s = 0;; s += step) {
    const size_t e = std::min(s + B, n);
    text::Encoding& w = out.emplace_back();
    append_tokens(w, full, 0, first);
    append_tokens(w, full, first + s, first + e);
    append_tokens(w, full, last, total);
    w.num_tokens_untruncated = full.num_tokens_untruncated;
    if (shifts) shifts->push_back(s);
    if (e >= n) break;
  }
  return out;
}

}  // namespace bert::pipeline
