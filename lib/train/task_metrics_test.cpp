// The entity and SQuAD metrics on hand-made cases whose values are worked out here.
#include <doctest/doctest.h>

#include "train/task_metrics.hpp"

using namespace bert::train;

TEST_CASE("strict IOB2 entities: B starts, I of the same type continues, a stray I starts nothing") {
  const std::vector<std::string> tags = {"B-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-ORG", "B-ORG", "B-ORG", "I-ORG"};
  const std::vector<Entity> e = strict_entities(tags);
  REQUIRE(e.size() == 4);
  CHECK(e[0] == Entity{"PER", 0, 2});
  CHECK(e[1] == Entity{"LOC", 4, 5});  // I-LOC at 3 follows O: no entity; I-ORG at 5 ends LOC
  CHECK(e[2] == Entity{"ORG", 6, 7});
  CHECK(e[3] == Entity{"ORG", 7, 9});
}

TEST_CASE("entity precision, recall and F1 per type and micro-averaged") {
  // Gold: PER[0,2) LOC[3,4) | ORG[0,1) PER[2,3).  Predicted: PER[0,2) LOC[3,4)→ORG | ORG[0,1) PER[1,3).
  const std::vector<std::vector<std::string>> gold = {{"B-PER", "I-PER", "O", "B-LOC"}, {"B-ORG", "O", "B-PER"}};
  const std::vector<std::vector<std::string>> pred = {{"B-PER", "I-PER", "O", "B-ORG"}, {"B-ORG", "B-PER", "I-PER"}};
  const EntityScores s = entity_scores(gold, pred);
  // Correct: PER[0,2), ORG[0,1) = 2 of 4 predicted and 4 gold.
  CHECK(s.correct == 2);
  CHECK(s.predicted == 4);
  CHECK(s.support == 4);
  CHECK(s.precision == doctest::Approx(0.5));
  CHECK(s.recall == doctest::Approx(0.5));
  CHECK(s.f1 == doctest::Approx(0.5));
  REQUIRE(s.types.size() == 3);
  CHECK(s.types[0].name == "LOC");  // 0 of 1 gold, none predicted: 0, 0, 0
  CHECK(s.types[0].precision == 0);
  CHECK(s.types[0].recall == 0);
  CHECK(s.types[1].name == "ORG");  // predicted 2, correct 1, gold 1: P 0.5, R 1, F1 2/3
  CHECK(s.types[1].precision == doctest::Approx(0.5));
  CHECK(s.types[1].recall == doctest::Approx(1.0));
  CHECK(s.types[1].f1 == doctest::Approx(2.0 / 3));
  CHECK(s.types[2].name == "PER");  // predicted 2, correct 1, gold 2: P 0.5, R 0.5
  CHECK(s.types[2].f1 == doctest::Approx(0.5));
}

TEST_CASE("SQuAD normalisation: case, punctuation, articles, whitespace") {
  CHECK(squad_normalize("The  Eiffel Tower!") == "eiffel tower");
  CHECK(squad_normalize("an apple, a pear") == "apple pear");
  CHECK(squad_normalize("theater") == "theater");          // an article only as a whole word
  CHECK(squad_normalize("Ça, c'est «Paris»") == "ça cest «paris»");  // ASCII punctuation only
  CHECK(squad_normalize("A") == "");
}

TEST_CASE("SQuAD exact match and token F1, max over gold answers") {
  CHECK(squad_exact_match("the Eiffel Tower", "Eiffel tower.") == 1.0);
  CHECK(squad_f1("the Eiffel Tower", "Eiffel tower.") == 1.0);
  // "eiffel tower in paris" vs "eiffel tower": 2 shared; P 2/4, R 2/2, F1 2·0.5·1/1.5 = 2/3.
  CHECK(squad_f1("Eiffel Tower in Paris", "the Eiffel Tower") == doctest::Approx(2.0 / 3));
  // A token counts as often as both sides have it: "a b b" is "b b" (a is an article), against
  // "b b b c" 2 shared: P 2/2, R 2/4, F1 2/3.
  CHECK(squad_f1("a b b", "b b b c") == doctest::Approx(2.0 / 3));
  CHECK(squad_f1("", "x") == 0.0);
  const SquadScores s = squad_scores({"Paris", "in 1889", "nothing"}, {{"Paris", "paris, France"}, {"1889"}, {"x"}});
  // Q1: EM 1, F1 1. Q2: EM 0, F1: "in 1889" vs "1889": P 1/2, R 1, F1 2/3. Q3: 0.
  CHECK(s.exact_match == doctest::Approx(100.0 / 3));
  CHECK(s.f1 == doctest::Approx(100.0 * (1 + 2.0 / 3) / 3));
}
