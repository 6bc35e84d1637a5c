// Metrics of the token tasks, as their official scripts define them.
// Entities (seqeval, mode="strict", IOB2): an entity is a B-X followed by any I-X of the same type;
// an I-X that does not continue one starts nothing. Precision, recall and F1 per type and overall
// (micro), 0 where a denominator is 0.
// SQuAD v1.1 (evaluate-v1.1.py): answers normalised (lower case, punctuation and the articles a, an,
// the removed, whitespace collapsed); exact match and token F1, each the maximum over the gold
// answers, averaged over questions, in percent.
//
//   EntityScores s = entity_scores(gold_tag_sequences, predicted_tag_sequences);   // s.f1, s.types
//   double f1 = squad_f1("the Eiffel Tower", "Eiffel tower");                    // 1.0
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bert::train {

struct Entity {
  std::string type;
  size_t begin, end;  // [begin, end) in words
  bool operator==(const Entity&) const = default;
};

// "B-PER" → ('B', "PER"), "I-PER" → ('I', "PER"), anything else → (0, "").
std::pair<char, std::string_view> split_bio(std::string_view tag);

// The strict-IOB2 entities of one tag sequence.
std::vector<Entity> strict_entities(const std::vector<std::string>& tags);

struct EntityScores {
  struct Type {
    std::string name;
    double precision = 0, recall = 0, f1 = 0;
    size_t support = 0, predicted = 0, correct = 0;
  };
  std::vector<Type> types;  // sorted by name
  double precision = 0, recall = 0, f1 = 0;  // micro over every type
  size_t support = 0, predicted = 0, correct = 0;
};

// gold[i] and predicted[i] are the tags of sentence i (same length).
EntityScores entity_scores(const std::vector<std::vector<std::string>>& gold,
                           const std::vector<std::vector<std::string>>& predicted);

std::string squad_normalize(std::string_view answer);
double squad_exact_match(std::string_view prediction, std::string_view gold);  // 0 or 1
double squad_f1(std::string_view prediction, std::string_view gold);

struct SquadScores {
  double exact_match = 0, f1 = 0;  // percent
  size_t questions = 0;
};
// predictions[i] against every gold answer of question i (max over them). A question without gold
// answers counts as answered right only by an empty prediction (SQuAD 2.0's convention).
SquadScores squad_scores(const std::vector<std::string>& predictions,
                         const std::vector<std::vector<std::string>>& gold_answers);

}  // namespace bert::train
