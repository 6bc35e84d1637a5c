#include "usage.hpp"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join

namespace bertctl {

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t(0));
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::vector<std::string> command_names(const CLI::App& root) {
  std::vector<std::string> names;
  for (const CLI::App* sub : root.get_subcommands([](const CLI::App*) { return true; })) names.push_back(sub->get_name());
  return names;
}

}  // namespace

std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = 3;  // more than 2 edits is not a typo
  for (const std::string& c : candidates) {
    const size_t d = c.size() > word.size() && c.compare(0, word.size(), word) == 0 && word.size() >= 3
                         ? 1
                         : edit_distance(word, c);
    if (d < best_distance) best = c, best_distance = d;
  }
  return best;
}

std::string unknown_command(const CLI::App& root, const std::string& word) {
  if (word.empty() || word[0] == '-') return "";
  const std::vector<std::string> names = command_names(root);
  if (std::find(names.begin(), names.end(), word) != names.end()) return "";
  const std::string guess = closest(word, names);
  return fmt::format("unknown command '{}'{}; the commands are {}", word,
                     guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess), fmt::join(names, ", "));
}

std::string option_suggestion(const CLI::App& sub, int argc, char** argv) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : sub.get_options([](const CLI::Option*) { return true; }))
    for (const std::string& l : opt->get_lnames()) names.push_back("--" + l);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) continue;
    arg = arg.substr(0, arg.find('='));
    if (std::find(names.begin(), names.end(), arg) != names.end()) continue;
    if (const std::string guess = closest(arg, names); !guess.empty())
      return fmt::format(" (did you mean {}?)", guess);
  }
  return "";
}

}  // namespace bertctl
