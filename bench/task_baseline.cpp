// The baseline a tagger must beat (not a test): each word of the test file tagged with the tag it
// has most often in the training file (on ties the first by name; unseen words O), scored as bertctl
// evaluate scores a tagger (strict IOB2 entities).
//
// usage: task_baseline TRAIN.conll TEST.conll
#include <cstdio>
#include <map>
#include <string>

#include "core/error.hpp"
#include "train/task_datasets.hpp"
#include "train/task_metrics.hpp"

int main(int argc, char** argv) try {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s TRAIN.conll TEST.conll\n", argv[0]);
    return 2;
  }
  namespace tr = bert::train;
  const tr::ConllData train = tr::read_conll(argv[1]), test = tr::read_conll(argv[2]);
  std::map<std::string, std::map<std::string, int>> counts;
  for (const auto& s : train.sentences)
    for (size_t i = 0; i < s.words.size(); ++i) {
      ++counts[s.words[i]][s.tags[i]];
    }
  std::vector<std::vector<std::string>> gold, predicted;
  for (const auto& s : test.sentences) {
    gold.push_back(s.tags);
    std::vector<std::string>& p = predicted.emplace_back();
    for (const std::string& w : s.words) {
      auto it = counts.find(w);
      std::string best = "O";
      int n = 0;
      if (it != counts.end())
        for (const auto& [tag, c] : it->second)
          if (c > n) best = tag, n = c;
      p.push_back(best);
    }
  }
  const tr::EntityScores e = tr::entity_scores(gold, predicted);
  std::printf("most-frequent-tag baseline: entity F1 %.4f  precision %.4f  recall %.4f  (%zu test entities)\n", e.f1,
              e.precision, e.recall, e.support);
  for (const auto& t : e.types)
    std::printf("  %-8s P %.4f  R %.4f  F1 %.4f  support %zu\n", t.name.c_str(), t.precision, t.recall, t.f1, t.support);
  return 0;
} catch (const bert::Error& e) {
  std::fprintf(stderr, "task_baseline: %s\n", e.what());
  return 1;
}
