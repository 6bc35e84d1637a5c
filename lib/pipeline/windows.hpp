// Overflow windows: a text (or a question's context) longer than the model's maximum, cut into
// overlapping windows the way Hugging Face's fast tokenizers do with `return_overflowing_tokens` and
// `stride`. With content budget B = max_length − special tokens (for a question-answering pair:
// B = max_length − 3 − question tokens), the n tokens of the cut segment give windows
// [s, min(s + B, n)) for s = 0, B − stride, 2(B − stride), …, stopping after the first that reaches
// n; every window gets the special tokens (and the whole question).
//
//   text::Encoding full = tok.encode(line, {.word_ids = true});          // untruncated
//   for (const text::Encoding& w : overflow_windows(full, 128, 32, false)) ...
#pragma once
#include <vector>

#include "text/tokenizer.hpp"  // Encoding

namespace bert::pipeline {

// `full` is an untruncated encoding with special tokens: [CLS] x [SEP], or for `second_only`
// [CLS] question [SEP] context [SEP] (the context is cut, the question kept whole). Throws
// ERROR_USAGE when stride leaves no room to advance, ERROR_INPUT when the question alone does not fit.
// `shifts` (optional) receives, per window, what to add to a window position to get the position
// in `full` (for the cut segment's tokens).
std::vector<text::Encoding> overflow_windows(const text::Encoding& full, int max_length, int stride, bool second_only,
                                             std::vector<size_t>* shifts = nullptr);

}  // namespace bert::pipeline
