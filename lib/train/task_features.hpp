// Training features: a tokenized input and its labels for the trainer, per task, made the way
// transformers' example scripts make them.
// Token classification (run_ner.py, label_all_tokens off): each word tokenized on its own
// (is_split_into_words), [CLS] pieces [SEP] cut to max_length; the word's tag on its first piece,
// kIgnoreLabel on the others and on special tokens.
// Question answering (run_qa.py): [CLS] question [SEP] context [SEP] in windows that share
// doc_stride context tokens; in each window the answer's first and last tokens, or [CLS] (0, 0)
// when the window does not hold the whole answer or the question has none.
//
//   Feature f = token_feature(tok, sentence, label_ids, 128);        // f.labels: one per token
//   std::vector<Feature> w = qa_features(tok, question, 384, 128, i);  // f.labels: start, end
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/task.hpp"           // Task
#include "text/tokenizer.hpp"       // Tokenizer, Encoding
#include "train/task_datasets.hpp"  // TaggedSentence, SquadQuestion

namespace bert::train {

struct Feature {
  text::Encoding encoding;
  std::vector<int32_t> labels;  // sequence classification: 1; token classification: one per token; QA: 2
  uint32_t example = 0;         // the example (sentence, question) it came from
};

// `first_piece` (optional) receives each word's first token position, -1 for a word cut off or with
// no tokens.
Feature token_feature(const text::Tokenizer& tok, const TaggedSentence& sentence,
                      const std::map<std::string, int32_t>& label_ids, int max_length,
                      std::vector<int32_t>* first_piece = nullptr);

std::vector<Feature> qa_features(const text::Tokenizer& tok, const SquadQuestion& question, int max_length,
                                 int doc_stride, uint32_t example);

// The labels of a padded batch of T tokens, in the trainer's layout for `task`.
std::vector<int32_t> batch_labels(model::Task task, const std::vector<const Feature*>& batch, int T);

}  // namespace bert::train
