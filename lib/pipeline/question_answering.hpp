// Answers from a question-answering head's start and end logits, as transformers'
// QuestionAnsweringPipeline (4.36, fast tokenizer) computes them: per window, positions outside
// the context (except [CLS]) masked, a softmax for starts and for ends, the best spans of at most
// max_answer_len tokens, each widened to whole words of the context; the windows' answers pooled
// with the null answer when impossible answers are allowed. ../shared/fixtures/tasks/README.md has
// the rules.
//
//   auto windows = overflow_windows(tok.encode_pair(q, ctx, {.word_ids = true}), 384, 128, true);
//   ... start/end logits (T) of each window ...
//   std::vector<Answer> a = best_answers(context, windows, starts, ends, {.top_k = 1});
#pragma once
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "text/tokenizer.hpp"  // Encoding

namespace bert::pipeline {

struct AnswerOptions {
  int top_k = 1;
  int max_answer_len = 15;
  bool handle_impossible_answer = false;
};

struct Answer {
  float score = 0;
  uint32_t start = 0, end = 0;  // characters of the context; 0, 0 for the null answer
  std::string text;
};

// windows[k]: [CLS] question [SEP] context-part [SEP] with word ids and character offsets into
// `context`; start_logits[k], end_logits[k]: (T) of that window. Best first, at most top_k.
std::vector<Answer> best_answers(std::string_view context, const std::vector<text::Encoding>& windows,
                                 const std::vector<std::vector<float>>& start_logits,
                                 const std::vector<std::vector<float>>& end_logits, const AnswerOptions& options);

}  // namespace bert::pipeline
