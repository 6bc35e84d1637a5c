// Entities from a token classifier's scores, as transformers' TokenClassificationPipeline (4.36,
// fast tokenizer) computes them: pre-entities per non-special token, words for the first / average
// / max strategies, B-/I- grouping, the ignored labels dropped, and overlapping entities of stride
// windows resolved. ../shared/fixtures/tasks/README.md spells out every rule.
//
//   std::vector<float> probs = token_probabilities(logits, T, L);        // float32 softmax per token
//   auto ents = window_entities(text, window, probs, labels, tok, Aggregation::AGG_SIMPLE, {"O"});
//   ents = resolve_overlaps(all_windows_entities);                        // only with several windows
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "text/tokenizer.hpp"  // Encoding, Tokenizer

namespace bert::pipeline {

enum class Aggregation { AGG_NONE, AGG_SIMPLE, AGG_FIRST, AGG_AVERAGE, AGG_MAX };

const char* aggregation_name(Aggregation a);
Aggregation parse_aggregation(const std::string& name);  // throws ERROR_USAGE for an unknown name

struct Entity {
  std::string label;     // `entity` (AGG_NONE: the token's label) or `entity_group` (the tag)
  float score = 0;
  int32_t index = -1;    // AGG_NONE: the token's position in its window
  std::string word;      // decoded tokens
  uint32_t start = 0, end = 0;  // [start, end) in characters of the text
};

// Softmax of each token's logits (T,L) → (T,L).
std::vector<float> token_probabilities(std::span<const float> logits, int T, int L);

// The entities of one window (an encoding with word ids and character offsets into `text`);
// probs (T,L).
std::vector<Entity> window_entities(std::string_view text, const text::Encoding& window, std::span<const float> probs,
                                    const std::vector<std::string>& labels, const text::Tokenizer& tokenizer,
                                    Aggregation aggregation, const std::vector<std::string>& ignore_labels);

// Entities of several windows of one text, pooled: sorted by start; of entities that overlap, the
// longer wins (on equal length, the higher score).
std::vector<Entity> resolve_overlaps(std::vector<Entity> entities);

// transformers' fast BERT convert_tokens_to_string (the WordPiece decoder with clean-up): later
// tokens lose "##" or gain a space; each token string then has " ." → "." and the like replaced.
std::string decode_wordpieces(std::span<const std::string> tokens, const std::string& prefix = "##");

// The label of each word (CoNLL output): for every pre-tokenized word, its text and its tag, by the
// first / average / max rule (none and simple take the word's first token).
struct WordTag {
  uint32_t start, end;  // characters
  std::string tag;
  int32_t word = 0;     // the word's index in its text
  int margin = 0;       // tokens between the word and its window's nearer edge
};
std::vector<WordTag> word_tags(const text::Encoding& window, std::span<const float> probs,
                               const std::vector<std::string>& labels, Aggregation aggregation);

// A whole text from its windows (overflow_windows, with their shifts) and each window's probs:
// the entities of every window, AGG_NONE indexes counted in the whole text, overlaps resolved when
// there are several windows.
std::vector<Entity> text_entities(std::string_view text, const std::vector<text::Encoding>& windows,
                                  const std::vector<size_t>& shifts, const std::vector<std::vector<float>>& probs,
                                  const std::vector<std::string>& labels, const text::Tokenizer& tokenizer,
                                  Aggregation aggregation, const std::vector<std::string>& ignore_labels);
// Every word's tag; a word seen by several windows takes its tag from the one where it is farthest
// from the window's edges (the most context on both sides), and its span from all of them (a word
// may be cut by a window's edge).
std::vector<WordTag> text_word_tags(const std::vector<text::Encoding>& windows,
                                    const std::vector<std::vector<float>>& probs,
                                    const std::vector<std::string>& labels, Aggregation aggregation);

}  // namespace bert::pipeline
