#include "pipeline/token_classification.hpp"

#include <algorithm>

#include "core/error.hpp"  // fail_usage
#include "model/inference.hpp"  // softmax_inplace
#include "text/utf8.hpp"   // utf8_char_starts, utf8_count

namespace bert::pipeline {

namespace {

struct PreEntity {
  std::string word;
  std::span<const float> scores;  // (L)
  int32_t index;
  uint32_t start, end;
  bool is_subword;
};

int argmax(std::span<const float> v) { return int(std::max_element(v.begin(), v.end()) - v.begin()); }

// "B-PER" → (B, PER); "I-PER" → (I, PER); anything else → (I, itself).
std::pair<char, std::string_view> bio_tag(std::string_view label) {
  if (label.starts_with("B-")) return {'B', label.substr(2)};
  if (label.starts_with("I-")) return {'I', label.substr(2)};
  return {'I', label};
}

Entity group_of(std::span<const Entity> members) {
  Entity g;
  const std::string& first = members.front().label;
  const size_t dash = first.find('-');
  g.label = dash == std::string::npos ? first : first.substr(dash + 1);
  double sum = 0;
  std::vector<std::string> words;
  for (const Entity& e : members) {
    sum += e.score;
    words.push_back(e.word);
  }
  g.score = float(sum / double(members.size()));
  g.word = decode_wordpieces(words);
  g.start = members.front().start;
  g.end = members.back().end;
  return g;
}

std::vector<Entity> group_entities(const std::vector<Entity>& entities) {
  std::vector<Entity> groups;
  size_t from = 0;
  for (size_t i = 1; i <= entities.size(); ++i) {
    bool joins = false;
    if (i < entities.size()) {
      const auto [bi, tag] = bio_tag(entities[i].label);
      joins = tag == bio_tag(entities[i - 1].label).second && bi != 'B';
    }
    if (!joins && i > from) {
      groups.push_back(group_of(std::span(entities).subspan(from, i - from)));
      from = i;
    }
  }
  return groups;
}

Entity word_entity(std::span<const PreEntity> tokens, const std::vector<std::string>& labels, Aggregation a) {
  std::vector<std::string> words;
  for (const PreEntity& t : tokens) words.push_back(t.word);
  Entity e;
  e.word = decode_wordpieces(words);
  e.start = tokens.front().start;
  e.end = tokens.back().end;
  if (a == Aggregation::AGG_AVERAGE) {
    std::vector<float> mean(tokens.front().scores.size(), 0.f);
    for (size_t j = 0; j < mean.size(); ++j) {
      double s = 0;
      for (const PreEntity& t : tokens) s += t.scores[j];
      mean[j] = float(s / double(tokens.size()));
    }
    const int best = argmax(mean);
    e.label = labels[size_t(best)];
    e.score = mean[size_t(best)];
    return e;
  }
  const PreEntity* chosen = &tokens.front();
  if (a == Aggregation::AGG_MAX)  // the token with the highest top score, the first on ties
    for (const PreEntity& t : tokens)
      if (*std::max_element(t.scores.begin(), t.scores.end()) >
          *std::max_element(chosen->scores.begin(), chosen->scores.end()))
        chosen = &t;
  const int best = argmax(chosen->scores);
  e.label = labels[size_t(best)];
  e.score = chosen->scores[size_t(best)];
  return e;
}

bool ignored(const std::string& label, const std::vector<std::string>& ignore) {
  return std::find(ignore.begin(), ignore.end(), label) != ignore.end();
}

}  // namespace

const char* aggregation_name(Aggregation a) {
  switch (a) {
    case Aggregation::AGG_NONE: return "none";
    case Aggregation::AGG_SIMPLE: return "simple";
    case Aggregation::AGG_FIRST: return "first";
    case Aggregation::AGG_AVERAGE: return "average";
    case Aggregation::AGG_MAX: return "max";
  }
  return "?";
}

Aggregation parse_aggregation(const std::string& name) {
  for (Aggregation a : {Aggregation::AGG_NONE, Aggregation::AGG_SIMPLE, Aggregation::AGG_FIRST,
                        Aggregation::AGG_AVERAGE, Aggregation::AGG_MAX})
    if (name == aggregation_name(a)) return a;
  fail_usage("unknown aggregation '{}' (none, simple, first, average, max)", name);
}

std::vector<float> token_probabilities(std::span<const float> logits, int T, int L) {
  std::vector<float> probs(logits.begin(), logits.begin() + long(T) * L);
  for (int t = 0; t < T; ++t) model::softmax_inplace(std::span(probs).subspan(size_t(t) * L, size_t(L)));
  return probs;
}

std::string decode_wordpieces(std::span<const std::string> tokens, const std::string& prefix) {
  static const std::pair<std::string_view, std::string_view> kCleanUp[] = {
      {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},    {" n't", "n't"},
      {" 'm", "'m"},   {" do not", " don't"},        {" 's", "'s"},   {" 've", "'ve"}, {" 're", "'re"},
  };
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string t = tokens[i];
    if (i > 0) t = !prefix.empty() && t.starts_with(prefix) ? t.substr(prefix.size()) : " " + t;
    for (const auto& [from, to] : kCleanUp)
      for (size_t at = 0; (at = t.find(from, at)) != std::string::npos; at += to.size()) t.replace(at, from.size(), to);
    out += t;
  }
  return out;
}

std::vector<Entity> window_entities(std::string_view text, const text::Encoding& w, std::span<const float> probs,
                                    const std::vector<std::string>& labels, const text::Tokenizer& tok,
                                    Aggregation aggregation, const std::vector<std::string>& ignore) {
  const size_t L = labels.size();
  const std::vector<uint32_t> at = text::utf8_char_starts(text);
  std::vector<PreEntity> pre;
  for (size_t t = 0; t < w.ids.size(); ++t) {
    if (w.attention_mask[t] == 0 || w.word_ids[t] < 0) continue;  // special tokens and padding
    const auto [start, end] = w.offsets[t];
    const std::string_view ref = text.substr(at[start], at[end] - at[start]);
    PreEntity p{tok.token(w.ids[t]), probs.subspan(t * L, L), int32_t(t), start, end, false};
    if (w.ids[t] == tok.unk_id()) {
      p.word = std::string(ref);
    } else {
      p.is_subword = text::utf8_count(p.word) != end - start;
    }
    pre.push_back(std::move(p));
  }
  std::vector<Entity> entities;
  if (aggregation == Aggregation::AGG_NONE || aggregation == Aggregation::AGG_SIMPLE) {
    for (const PreEntity& p : pre) {
      const int best = argmax(p.scores);
      entities.push_back({labels[size_t(best)], p.scores[size_t(best)], p.index, p.word, p.start, p.end});
    }
  } else {
    for (size_t i = 0; i < pre.size();) {
      size_t j = i + 1;
      while (j < pre.size() && pre[j].is_subword) ++j;
      entities.push_back(word_entity(std::span(pre).subspan(i, j - i), labels, aggregation));
      i = j;
    }
  }
  if (aggregation != Aggregation::AGG_NONE) entities = group_entities(entities);
  std::erase_if(entities, [&](const Entity& e) { return ignored(e.label, ignore); });
  return entities;
}

std::vector<Entity> resolve_overlaps(std::vector<Entity> entities) {
  if (entities.empty()) return entities;
  std::stable_sort(entities.begin(), entities.end(), [](const Entity& a, const Entity& b) { return a.start < b.start; });
  std::vector<Entity> out;
  Entity current = entities.front();
  for (const Entity& e : entities) {
    if (current.start <= e.start && e.start < current.end) {
      const uint32_t length = e.end - e.start, current_length = current.end - current.start;
      if (length > current_length || (length == current_length && e.score > current.score)) current = e;
    } else {
      out.push_back(current);
      current = e;
    }
  }
  out.push_back(current);
  return out;
}

std::vector<WordTag> word_tags(const text::Encoding& w, std::span<const float> probs,
                               const std::vector<std::string>& labels, Aggregation aggregation) {
  const size_t L = labels.size();
  std::vector<WordTag> out;
  size_t first = w.ids.size(), last = 0;  // the window's content tokens
  for (size_t t = 0; t < w.ids.size(); ++t)
    if (w.word_ids[t] >= 0 && w.attention_mask[t]) {
      first = std::min(first, t);
      last = t;
    }
  for (size_t t = 0; t < w.ids.size();) {
    if (w.word_ids[t] < 0 || w.attention_mask[t] == 0) {
      ++t;
      continue;
    }
    size_t u = t + 1;
    while (u < w.ids.size() && w.word_ids[u] == w.word_ids[t]) ++u;
    std::vector<PreEntity> tokens;
    for (size_t k = t; k < u; ++k) tokens.push_back({"", probs.subspan(k * L, L), int32_t(k), w.offsets[k].first,
                                                     w.offsets[k].second, k > t});
    const Aggregation a = aggregation == Aggregation::AGG_AVERAGE || aggregation == Aggregation::AGG_MAX
                              ? aggregation
                              : Aggregation::AGG_FIRST;
    out.push_back({w.offsets[t].first, w.offsets[u - 1].second, word_entity(tokens, labels, a).label,
                   w.word_ids[t], int(std::min(t - first, last - (u - 1)))});
    t = u;
  }
  return out;
}

std::vector<Entity> text_entities(std::string_view text, const std::vector<text::Encoding>& windows,
                                  const std::vector<size_t>& shifts, const std::vector<std::vector<float>>& probs,
                                  const std::vector<std::string>& labels, const text::Tokenizer& tok,
                                  Aggregation aggregation, const std::vector<std::string>& ignore) {
  std::vector<Entity> all;
  for (size_t k = 0; k < windows.size(); ++k) {
    std::vector<Entity> e = window_entities(text, windows[k], probs[k], labels, tok, aggregation, ignore);
    for (Entity& x : e)
      if (x.index >= 0 && k < shifts.size()) x.index += int32_t(shifts[k]);
    all.insert(all.end(), std::make_move_iterator(e.begin()), std::make_move_iterator(e.end()));
  }
  return windows.size() > 1 ? resolve_overlaps(std::move(all)) : all;
}

std::vector<WordTag> text_word_tags(const std::vector<text::Encoding>& windows,
                                    const std::vector<std::vector<float>>& probs,
                                    const std::vector<std::string>& labels, Aggregation aggregation) {
  std::vector<WordTag> out;
  for (size_t k = 0; k < windows.size(); ++k)
    for (WordTag& w : word_tags(windows[k], probs[k], labels, aggregation)) {
      auto it = std::lower_bound(out.begin(), out.end(), w.word,
                                 [](const WordTag& a, int32_t word) { return a.word < word; });
      if (it != out.end() && it->word == w.word) {
        const uint32_t start = std::min(it->start, w.start), end = std::max(it->end, w.end);
        if (w.margin > it->margin) *it = std::move(w);
        it->start = start;
        it->end = end;
      } else {
        out.insert(it, std::move(w));
      }
    }
  return out;
}

}  // namespace bert::pipeline
