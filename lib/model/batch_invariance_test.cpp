// A text's numbers must not depend on the batch it came in: `classify` printed 0.709638 for a line
// in one batch and 0.70963794 for the same line in another. The heads run row by row; the encoder's
// rows are never fewer than a kernel block, so a short text alone takes the kernels a batch takes.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "model/inference.hpp"
#include "model/model.hpp"
#include "test_support.hpp"

namespace {

struct Outputs {
  std::vector<float> logits, pooled, embedding;
};

// The first text's outputs when run in `texts` as one batch.
Outputs first_of(bert::model::Inference& inf, const std::vector<bert::text::Encoding>& texts) {
  std::vector<const bert::text::Encoding*> batch;
  for (const auto& e : texts) batch.push_back(&e);
  inf.run(batch);
  const size_t C = size_t(inf.model().config.hidden_size), L = size_t(inf.model().config.num_labels());
  const std::vector<float> logits = inf.classifier_logits(), pooled = inf.pooler_output(),
                           mean = inf.embeddings(bert::model::Pooling::POOLING_MEAN, false);
  return {{logits.begin(), logits.begin() + long(L)},
          {pooled.begin(), pooled.begin() + long(C)},
          {mean.begin(), mean.begin() + long(C)}};
}

}  // namespace

TEST_CASE("a text's logits, pooler output and embedding are the same bits alone and in any batch") {
  const auto dir = bert::test::shared_path("fixtures/tiny-uncased-cls");
  const bert::model::Model model = bert::model::load_model(dir.string(), {});
  const bert::text::Tokenizer& tok = *model.tokenizer;
  const std::vector<std::string> others = {
      "ok", "see you at the station at five then, and do not be late again please",
      "hi there, how are you doing today my friend?", "a", "the quick brown fox jumps over the lazy dog"};
  for (const std::string text : {"great", "Congratulations, you have won a free cruise: call now to claim it"}) {
    CAPTURE(text);
    bert::model::Inference inf(model);
    std::vector<bert::text::Encoding> alone = {tok.encode(text)};
    const Outputs ref = first_of(inf, alone);
    // Batches of 2 to 6, run twice each: the second time on weights packed by the runs before.
    for (int round = 0; round < 2; ++round)
      for (size_t n = 1; n <= others.size(); ++n) {
        std::vector<bert::text::Encoding> batch = alone;
        for (size_t i = 0; i < n; ++i) batch.push_back(tok.encode(others[i]));
        const Outputs got = first_of(inf, batch);
        CAPTURE(n);
        CAPTURE(round);
        CHECK(got.logits == ref.logits);
        CHECK(got.pooled == ref.pooled);
        CHECK(got.embedding == ref.embedding);
      }
  }
}
