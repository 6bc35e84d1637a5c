// Task data: CoNLL files and SQuAD JSON (the first byte picks which), then what is computed from
// them before any model runs: the label order, strict-IOB2 entities, SQuAD answer normalisation.
#include "fuzz_support.hpp"
#include "train/task_datasets.hpp"
#include "train/task_metrics.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  bert::fuzz::MemoryFile file(data + 1, size - 1);
  bert::fuzz::refuse_or_accept([&] {
    if (data[0] & 1) {
      for (const auto& q : bert::train::read_squad(file.path()))
        for (const auto& a : q.answers) (void)bert::train::squad_f1(a.text, q.question);
    } else {
      const bert::train::ConllData d = bert::train::read_conll(file.path());
      std::vector<std::vector<std::string>> tags;
      for (const auto& s : d.sentences) tags.push_back(s.tags);
      (void)bert::train::conll_labels(d.sentences);
      (void)bert::train::entity_scores(tags, tags);
    }
  });
  return 0;
}
