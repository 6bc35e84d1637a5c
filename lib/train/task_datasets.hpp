// Labelled data for the token tasks: CoNLL files for token classification (`token<TAB>tag` per
// line, a blank line after each sentence) and SQuAD-format JSON for question answering. Every
// problem names the file and the line or the question id.
//
//   ConllData d = read_conll("train.conll", labels);   // d.sentences[i].words / .tags; d.bio_repairs
//   std::vector<SquadQuestion> q = read_squad("train.json");
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace bert::train {

struct TaggedSentence {
  std::vector<std::string> words, tags;
  uint64_t line = 0;  // where the sentence starts
};

struct ConllData {
  std::vector<TaggedSentence> sentences;
  // Tags I-X that follow neither B-X nor I-X (broken BIO). They are trained as written; seqeval's
  // strict evaluation does not count them as the start of an entity. The first one, for the message.
  uint64_t broken_bio = 0;
  std::string first_broken_bio;
};

// `labels` (may be empty: any tag) is the label set a tag must belong to. Lines are split at the
// last tab (a token may hold spaces; BTC has some); a line without a tab is an error.
ConllData read_conll(const std::string& path, const std::vector<std::string>& labels = {});

// The tags of the data, O first, then sorted by type with B- before I- (a stable label order).
std::vector<std::string> conll_labels(const std::vector<TaggedSentence>& sentences);

struct SquadAnswer {
  std::string text;
  uint32_t start = 0;  // character (code point) offset into the context
};

struct SquadQuestion {
  std::string id, question, context;
  std::vector<SquadAnswer> answers;  // empty: unanswerable (SQuAD 2.0's is_impossible)
};

// SQuAD v1.1/v2.0 JSON: data[].paragraphs[].{context, qas[].{id, question, answers[]}}. An answer
// whose text is not at its answer_start in the context, an empty question or context, or a missing
// field is an error naming the file and the question id.
std::vector<SquadQuestion> read_squad(const std::string& path);

}  // namespace bert::train
