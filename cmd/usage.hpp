// Usage errors people make and what to suggest: an unknown command or option, spelled close to a
// real one ("tokenise" -> tokenize, "--modle" -> --model, "--epoch" -> --epochs).
#pragma once
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace bertctl {

// The candidate closest to `word` by edit distance, or "" if none is close enough to be a typo
// (at most 2 edits, or a prefix of the candidate).
std::string closest(const std::string& word, const std::vector<std::string>& candidates);

// For `bertctl WORD ...` where WORD is no command: the one-line message, with a suggestion.
// Empty if WORD is a command (or an option).
std::string unknown_command(const CLI::App& root, const std::string& word);

// " (did you mean --model?)" for the first argument `sub` has no option for; "" if none is close.
std::string option_suggestion(const CLI::App& sub, int argc, char** argv);

}  // namespace bertctl
