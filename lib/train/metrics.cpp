#include "train/metrics.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace bert::train {

Metrics compute_metrics(std::span<const int32_t> gold, std::span<const int32_t> predicted, int L) {
  Metrics m;
  m.count = int64_t(gold.size());
  m.confusion.assign(size_t(L), std::vector<int64_t>(size_t(L), 0));
  int64_t correct = 0;
  for (size_t i = 0; i < gold.size(); ++i) {
    ++m.confusion[size_t(gold[i])][size_t(predicted[i])];
    correct += gold[i] == predicted[i];
  }
  m.accuracy = m.count ? double(correct) / double(m.count) : 0;
  m.precision.assign(size_t(L), 0);
  m.recall.assign(size_t(L), 0);
  m.f1.assign(size_t(L), 0);
  m.support.assign(size_t(L), 0);
  for (int c = 0; c < L; ++c) {
    int64_t tp = m.confusion[size_t(c)][size_t(c)], predicted_c = 0, actual_c = 0;
    for (int o = 0; o < L; ++o) {
      predicted_c += m.confusion[size_t(o)][size_t(c)];
      actual_c += m.confusion[size_t(c)][size_t(o)];
    }
    const double p = predicted_c ? double(tp) / double(predicted_c) : 0.0;
    const double r = actual_c ? double(tp) / double(actual_c) : 0.0;
    m.precision[size_t(c)] = p;
    m.recall[size_t(c)] = r;
    m.f1[size_t(c)] = p + r > 0 ? 2 * p * r / (p + r) : 0.0;
    m.support[size_t(c)] = actual_c;
    m.macro_f1 += m.f1[size_t(c)] / L;
  }
  return m;
}

double Metrics::value(const std::string& name) const {
  if (name == "loss") return -loss;
  if (name == "accuracy") return accuracy;
  if (name == "exact_match") return squad ? squad->exact_match : 0;
  if (name == "f1") return entities ? entities->f1 : squad ? squad->f1 : macro_f1;
  return macro_f1;
}

std::string format_metrics(const Metrics& m, const std::vector<std::string>& labels) {
  if (m.squad)
    return fmt::format("loss {:.4f}  exact match {:.2f}  F1 {:.2f}  ({} questions)\n", m.loss, m.squad->exact_match,
                       m.squad->f1, m.squad->questions);
  if (m.entities) {
    const EntityScores& e = *m.entities;
    size_t width = 7;
    for (const auto& t : e.types) width = std::max(width, t.name.size());
    std::string out = fmt::format("loss {:.4f}  entity F1 {:.4f}  precision {:.4f}  recall {:.4f}  word accuracy {:.4f}  "
                                  "({} sentences)\n",
                                  m.loss, e.f1, e.precision, e.recall, m.accuracy, m.count);
    out += fmt::format("  {:<{}}  precision  recall     F1  support\n", "entity", width);
    for (const auto& t : e.types)
      out += fmt::format("  {:<{}}  {:9.4f}  {:6.4f} {:6.4f}  {:7}\n", t.name, width, t.precision, t.recall, t.f1,
                         t.support);
    return out;
  }
  size_t width = 5;
  for (const std::string& l : labels) width = std::max(width, l.size());
  std::string out = fmt::format("loss {:.4f}  accuracy {:.4f}  macro-F1 {:.4f}  ({} examples)\n", m.loss, m.accuracy,
                                m.macro_f1, m.count);
  out += fmt::format("  {:<{}}  precision  recall     F1  support\n", "label", width);
  for (size_t c = 0; c < labels.size(); ++c)
    out += fmt::format("  {:<{}}  {:9.4f}  {:6.4f} {:6.4f}  {:7}\n", labels[c], width, m.precision[c], m.recall[c],
                       m.f1[c], m.support[c]);
  out += fmt::format("  confusion (rows: true, columns: predicted)\n  {:<{}}", "", width);
  for (const std::string& l : labels) out += fmt::format(" {:>{}}", l, std::max<size_t>(l.size(), 6));
  out += '\n';
  for (size_t r = 0; r < labels.size(); ++r) {
    out += fmt::format("  {:<{}}", labels[r], width);
    for (size_t c = 0; c < labels.size(); ++c)
      out += fmt::format(" {:>{}}", m.confusion[r][c], std::max<size_t>(labels[c].size(), 6));
    out += '\n';
  }
  return out;
}

std::string metrics_json(const Metrics& m, const std::vector<std::string>& labels) {
  nlohmann::ordered_json j;
  j["loss"] = m.loss;
  if (m.squad) {
    j["exact_match"] = m.squad->exact_match;
    j["f1"] = m.squad->f1;
    j["count"] = m.count;
    return j.dump();
  }
  if (m.entities) {
    j["f1"] = m.entities->f1;
    j["precision"] = m.entities->precision;
    j["recall"] = m.entities->recall;
    j["word_accuracy"] = m.accuracy;
    j["count"] = m.count;
    nlohmann::ordered_json per = nlohmann::ordered_json::object();
    for (const auto& t : m.entities->types)
      per[t.name] = {{"precision", t.precision}, {"recall", t.recall}, {"f1", t.f1}, {"support", t.support}};
    j["per_type"] = per;
    return j.dump();
  }
  j["accuracy"] = m.accuracy;
  j["macro_f1"] = m.macro_f1;
  j["count"] = m.count;
  nlohmann::ordered_json per = nlohmann::ordered_json::object();
  for (size_t c = 0; c < labels.size(); ++c)
    per[labels[c]] = {{"precision", m.precision[c]}, {"recall", m.recall[c]}, {"f1", m.f1[c]}, {"support", m.support[c]}};
  j["per_class"] = per;
  j["confusion"] = m.confusion;
  return j.dump();
}

}  // namespace bert::train
