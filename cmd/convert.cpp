// bertctl convert: a Hugging Face checkpoint directory to our model file, a model file back to a
// Hugging Face directory, or a model file to another dtype.
#include <filesystem>

#include "command.hpp"
#include "core/error.hpp"
#include "core/file.hpp"
#include "model/model.hpp"

namespace bertctl {

namespace {

struct ConvertOptions {
  std::string input;
  std::string output;
  std::string to = "gguf";
  std::string dtype = "f32";
  bool force = false;
  bool quiet = false;
};

void refuse_overwrite(const std::vector<std::string>& paths) {
  for (const std::string& p : paths)
    if (bert::output_would_replace(p)) bert::fail_usage("{} exists; pass --force to overwrite it", p);
}

void run_convert(const ConvertOptions& o) {
  namespace fs = std::filesystem;
  const bert::io::DType dtype = o.dtype == "f16"    ? bert::io::DType::DTYPE_F16
                                : o.dtype == "int8" ? bert::io::DType::DTYPE_I8
                                                    : bert::io::DType::DTYPE_F32;
  if (o.to == "hf" && o.dtype != "f32") bert::fail_usage("--to hf writes f32 weights; drop --dtype");
  if (o.to == "hf" && o.output == "-") bert::fail_usage("--to hf writes a directory; -o - (standard output) cannot hold one");
  if (fs::absolute(o.input) == fs::absolute(o.output)) bert::fail_usage("the output must differ from the input");
  if (!o.force) {
    if (o.to == "hf")
      refuse_overwrite({o.output + "/config.json", o.output + "/model.safetensors", o.output + "/vocab.txt",
                        o.output + "/tokenizer.json", o.output + "/pytorch_model.bin"});
    else
      refuse_overwrite({o.output});
  }
  bert::model::Model m = bert::model::load_model(o.input, {.float_weights = true});
  if (!o.quiet)
    for (const std::string& note : m.notes) std::fprintf(stderr, "bertctl: convert: %s\n", note.c_str());
  if (o.to == "hf")
    bert::model::save_model_hf(m, o.output);
  else
    bert::model::save_model_gguf(m, o.output, dtype);
}

}  // namespace

void add_convert_command(CLI::App& root) {
  auto o = std::make_shared<ConvertOptions>();
  CLI::App* app = root.add_subcommand(
      "convert", "Convert a Hugging Face checkpoint to a bertctl model file, or a model file back to Hugging Face");
  app->add_option("input", o->input, "Hugging Face checkpoint directory, or a bertctl model file")->required();
  app->add_option("-o,--output", o->output, "Output model file (or directory with --to hf)")->required();
  app->add_option("--to", o->to, "Output format: gguf (our model file) or hf (Hugging Face directory)")
      ->check(CLI::IsMember({"gguf", "hf"}))
      ->capture_default_str();
  app->add_option("--dtype", o->dtype,
                  "Weight type in the model file: f32, f16, or int8 (linear layers quantized per output channel "
                  "for VNNI inference)")
      ->check(CLI::IsMember({"f32", "f16", "int8"}))
      ->capture_default_str();
  app->add_flag("-f,--force", o->force, "Overwrite an existing output");
  app->add_flag("-q,--quiet", o->quiet, "Do not report what conversion ignored");
  app->callback([o] { run_convert(*o); });
}

}  // namespace bertctl
