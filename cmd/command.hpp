// The subcommands of bertctl. Each cmd/<name>.cpp declares one options struct, registers its
// flags with add_<name>_command() and runs through a CLI11 callback; nothing here does arithmetic.
#pragma once
#include <CLI/CLI.hpp>  // CLI::App

namespace bertctl {

void add_tokenize_command(CLI::App& root);
void add_convert_command(CLI::App& root);
void add_info_command(CLI::App& root);
void add_init_command(CLI::App& root);
void add_encode_command(CLI::App& root);
void add_classify_command(CLI::App& root);
void add_ner_command(CLI::App& root);
void add_qa_command(CLI::App& root);
void add_fill_mask_command(CLI::App& root);
void add_finetune_command(CLI::App& root);
void add_version_command(CLI::App& root);
void add_evaluate_command(CLI::App& root);
void add_completion_command(CLI::App& root);

// Flags several subcommands share, declared once so their help text agrees everywhere.
CLI::Option* add_threads_flag(CLI::App& app, int& threads);

}  // namespace bertctl
