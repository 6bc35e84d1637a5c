// bertctl completion bash|zsh|fish: shell completion scripts written from the command-line
// definitions themselves (subcommands, their options, the values an option accepts), so they never
// fall behind the CLI. The build writes all three and `cmake --install` puts them where each shell
// looks.
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join

#include "command.hpp"
#include "core/output.hpp"

namespace bertctl {

namespace {

struct OptionSpec {
  std::vector<std::string> names;  // "--model", "-m"
  std::string help;
  bool takes_value = false;
  std::vector<std::string> choices;  // from an IsMember check: "{text,jsonl}"
};

struct CommandSpec {
  std::string name, help;
  std::vector<OptionSpec> options;
};

// CLI11 describes an IsMember check as "{a,b,c}" in the option's type text.
std::vector<std::string> choices_of(const CLI::Option* opt) {
  const std::string t = opt->get_type_name();
  const size_t open = t.find('{'), close = t.find('}');
  std::vector<std::string> out;
  if (open == std::string::npos || close == std::string::npos) return out;
  std::string item;
  for (char ch : t.substr(open + 1, close - open - 1)) {
    if (ch == ',') {
      out.push_back(item);
      item.clear();
    } else if (ch != ' ') {
      item.push_back(ch);
    }
  }
  if (!item.empty()) out.push_back(item);
  return out;
}

std::vector<CommandSpec> describe(const CLI::App& root) {
  std::vector<CommandSpec> out;
  for (const CLI::App* sub : root.get_subcommands([](const CLI::App*) { return true; })) {
    CommandSpec c{sub->get_name(), sub->get_description(), {}};
    for (const CLI::Option* opt : sub->get_options([](const CLI::Option* o) { return !o->get_positional(); })) {
      OptionSpec s;
      for (const std::string& l : opt->get_lnames()) s.names.push_back("--" + l);
      for (const std::string& l : opt->get_fnames())
        if (l.rfind("!", 0) != std::string::npos) s.names.push_back("--" + l.substr(1));
      for (const std::string& n : opt->get_snames()) s.names.push_back("-" + n);
      s.help = opt->get_description();
      s.takes_value = opt->get_type_size_max() > 0 && opt->get_expected_max() > 0;
      s.choices = choices_of(opt);
      c.options.push_back(std::move(s));
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::string quoted(const std::string& s, char q) {  // for the shell: q is ' or "
  std::string out(1, q);
  for (char ch : s) {
    if (ch == q) out += q == '\'' ? "'\\''" : "\\\"";
    else out.push_back(ch);
  }
  return out + q;
}

std::string bash_script(const std::vector<CommandSpec>& commands) {
  std::string s = "# bash completion for bertctl (written by `bertctl completion bash`)\n_bertctl() {\n"
                  "  local cur prev cmd i\n  cur=${COMP_WORDS[COMP_CWORD]}\n  prev=${COMP_WORDS[COMP_CWORD-1]}\n"
                  "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
                  "    [[ ${COMP_WORDS[i]} != -* ]] && { cmd=${COMP_WORDS[i]}; break; }\n  done\n";
  std::vector<std::string> names;
  for (const CommandSpec& c : commands) names.push_back(c.name);
  s += fmt::format("  if [[ -z $cmd ]]; then COMPREPLY=($(compgen -W {} -- \"$cur\")); return; fi\n",
                   quoted(fmt::format("{} -h --help -V --version", fmt::join(names, " ")), '\''));
  s += "  case $cmd in\n";
  for (const CommandSpec& c : commands) {
    std::vector<std::string> all;
    std::string values;
    for (const OptionSpec& o : c.options) {
      all.insert(all.end(), o.names.begin(), o.names.end());
      if (!o.choices.empty())
        values += fmt::format("        {}) COMPREPLY=($(compgen -W {} -- \"$cur\")); return ;;\n", fmt::join(o.names, "|"),
                              quoted(fmt::format("{}", fmt::join(o.choices, " ")), '\''));
    }
    if (c.name == "help") all = names;
    s += fmt::format("    {})\n      case $prev in\n{}      esac\n", c.name, values);
    s += fmt::format("      if [[ $cur == -* || {} == 1 ]]; then COMPREPLY=($(compgen -W {} -- \"$cur\")); "
                     "else COMPREPLY=($(compgen -f -- \"$cur\")); fi ;;\n",
                     c.name == "help" ? 1 : 0, quoted(fmt::format("{}", fmt::join(all, " ")), '\''));
  }
  s += "  esac\n}\ncomplete -o filenames -F _bertctl bertctl\n";
  return s;
}

std::string zsh_script(const std::vector<CommandSpec>& commands) {
  std::string s = "#compdef bertctl\n# zsh completion for bertctl (written by `bertctl completion zsh`)\n_bertctl() {\n"
                  "  local -a commands\n  commands=(\n";
  for (const CommandSpec& c : commands) s += fmt::format("    {}\n", quoted(c.name + ":" + c.help, '\''));
  s += "  )\n  if (( CURRENT == 2 )); then _describe command commands; return; fi\n  case $words[2] in\n";
  for (const CommandSpec& c : commands) {
    s += fmt::format("    {})\n      _arguments -s \\\n", c.name);
    for (const OptionSpec& o : c.options) {
      std::string help = o.help;
      for (char& ch : help)
        if (ch == '[' || ch == ']' || ch == ':') ch = ' ';
      const std::string action =
          !o.takes_value ? "" : o.choices.empty() ? ":value:_files" : fmt::format(":value:({})", fmt::join(o.choices, " "));
      for (const std::string& n : o.names) s += fmt::format("        {} \\\n", quoted(n + "[" + help + "]" + action, '\''));
    }
    s += "        '*:file:_files' ;;\n";
  }
  s += "  esac\n}\n_bertctl \"$@\"\n";
  return s;
}

std::string fish_script(const std::vector<CommandSpec>& commands) {
  std::string s = "# fish completion for bertctl (written by `bertctl completion fish`)\n"
                  "complete -c bertctl -n __fish_use_subcommand -s V -l version -d 'Print the version'\n";
  for (const CommandSpec& c : commands) {
    s += fmt::format("complete -c bertctl -n __fish_use_subcommand -f -a {} -d {}\n", c.name, quoted(c.help, '\''));
    for (const OptionSpec& o : c.options) {
      std::string flags;
      for (const std::string& n : o.names)
        flags += n.rfind("--", 0) == 0 ? fmt::format(" -l {}", n.substr(2)) : fmt::format(" -s {}", n.substr(1));
      std::string extra = o.takes_value ? " -r" : "";
      if (!o.choices.empty()) extra = fmt::format(" -x -a {}", quoted(fmt::format("{}", fmt::join(o.choices, " ")), '\''));
      s += fmt::format("complete -c bertctl -n '__fish_seen_subcommand_from {}'{}{} -d {}\n", c.name, flags, extra,
                       quoted(o.help, '\''));
    }
  }
  return s;
}

}  // namespace

void add_completion_command(CLI::App& root) {
  auto shell = std::make_shared<std::string>();
  CLI::App* app = root.add_subcommand("completion", "Print a shell completion script: bash, zsh or fish");
  app->add_option("shell", *shell, "bash, zsh or fish")->required()->check(CLI::IsMember({"bash", "zsh", "fish"}));
  app->callback([shell, &root] {
    const std::vector<CommandSpec> commands = describe(root);
    bert::Output out;
    out.write(*shell == "bash" ? bash_script(commands) : *shell == "zsh" ? zsh_script(commands) : fish_script(commands));
    out.flush();
  });
}

}  // namespace bertctl
