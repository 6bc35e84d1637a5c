// bertctl: BERT models in the Unix shell. This file parses the command line, dispatches to the
// subcommand, and is the one place that catches errors and turns them into exit codes:
// 0 success, 1 runtime/input/model error, 2 usage error (CLI11's own codes are 100 and up).
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <new>
#include <string>

#include <CLI/CLI.hpp>

#include "command.hpp"
#include "core/error.hpp"   // bert::Error
#include "core/file.hpp"    // remove_pending_temporaries
#include "core/output.hpp"  // BrokenPipe
#include "core/threads.hpp" // physical_cores
#include "usage.hpp"          // unknown_command, option_suggestion

namespace bertctl {

CLI::Option* add_threads_flag(CLI::App& app, int& threads) {
  threads = bert::physical_cores();
  return app.add_option("-t,--threads", threads, "Worker threads (default: physical cores)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
}

}  // namespace bertctl

namespace {

void on_fatal_signal(int sig) {
  bert::remove_pending_temporaries();  // never leave a half-written output file behind
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

std::string command_name(const CLI::App& app) {
  for (const CLI::App* sub : app.get_subcommands()) return sub->get_name();
  return "";
}

void print_error(const std::string& command, const std::string& message) {
  if (command.empty())
    std::fprintf(stderr, "bertctl: %s\n", message.c_str());
  else
    std::fprintf(stderr, "bertctl: %s: %s\n", command.c_str(), message.c_str());
}

std::string g_command;  // for the last word on standard output, after parsing

// Whatever went through stdio (help, info, version) reached standard output; else one line says
// why (a reader that went away is no error).
bool stdout_written() {
  std::cout.flush();
  if (std::fflush(stdout) == 0 && !std::ferror(stdout) && std::cout.good()) return true;
  if (errno == EPIPE) return true;
  print_error(g_command, std::string("cannot write to standard output: ") + std::strerror(errno ? errno : EIO));
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a closed pipe shows up as EPIPE -> BrokenPipe -> exit 0
  std::signal(SIGINT, on_fatal_signal);
  std::signal(SIGTERM, on_fatal_signal);

  CLI::App app{"bertctl: BERT models in the Unix shell: tokenize, embed, fill masks, classify, fine-tune, convert"};
  app.name("bertctl");
  app.set_version_flag("-V,--version", "bertctl " BERTCTL_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  bertctl::add_tokenize_command(app);
  bertctl::add_encode_command(app);
  bertctl::add_fill_mask_command(app);
  bertctl::add_classify_command(app);
  bertctl::add_ner_command(app);
  bertctl::add_qa_command(app);
  bertctl::add_finetune_command(app);
  bertctl::add_evaluate_command(app);
  bertctl::add_convert_command(app);
  bertctl::add_info_command(app);
  bertctl::add_init_command(app);
  bertctl::add_version_command(app);
  bertctl::add_completion_command(app);

  std::string help_topic;
  CLI::App* help = app.add_subcommand("help", "Show the help of a subcommand");
  help->add_option("command", help_topic, "Subcommand to describe");
  help->callback([&] {
    if (help_topic.empty())  // the command list (App::help would describe `help` itself, being parsed)
      return (void)std::fputs(app.get_formatter()->make_help(&app, "bertctl", CLI::AppFormatMode::Normal).c_str(), stdout);
    CLI::App* sub = app.get_subcommand(help_topic);  // throws OptionNotFound for unknown names
    std::fputs(sub->help().c_str(), stdout);
  });

  if (argc > 1) {
    if (const std::string unknown = bertctl::unknown_command(app, argv[1]); !unknown.empty()) {
      print_error("", unknown);
      return 2;
    }
  }
  // The command runs inside parse(): name it for the SIGBUS handler now (a model file truncated
  // while in use ends with a message, after the lines already computed).
  static const std::string fault_command = argc > 1 ? argv[1] : "";
  bert::install_mapped_file_fault_handler(fault_command.c_str(), &bert::Output::flush_standard_output_on_fatal);
  try {
    app.parse(argc, argv);
    g_command = command_name(app);
  } catch (const CLI::OptionNotFound& e) {  // `bertctl help nosuch`
    print_error("help", e.what());
    return 2;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help, --version: their output must arrive too
      g_command = command_name(app);
      app.exit(e);
      return stdout_written() ? 0 : 1;
    }
    // One line, as every diagnostic: the problem, a likely spelling, where the usage is.
    const std::string name = command_name(app);
    const CLI::App* sub = name.empty() ? &app : app.get_subcommand(name);
    print_error(name, std::string(e.what()) + bertctl::option_suggestion(*sub, argc, argv) + " (see 'bertctl " +
                          (name.empty() ? "" : name + " ") + "--help')");
    return 2;
  } catch (const bert::BrokenPipe&) {
    return 0;
  } catch (const bert::Error& e) {
    print_error(command_name(app), e.what());
    if (e.kind() == bert::ErrorKind::ERROR_INTERRUPTED) return 130;  // 128 + SIGINT, as shells expect
    return e.kind() == bert::ErrorKind::ERROR_USAGE ? 2 : 1;
  } catch (const std::bad_alloc&) {
    print_error(command_name(app), "out of memory");
    return 1;
  } catch (const std::exception& e) {
    print_error(command_name(app), std::string("internal error: ") + e.what());
    return 1;
  }
  return stdout_written() ? 0 : 1;
}
