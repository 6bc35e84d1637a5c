// bertctl tokenize: one line of text in, one line of WordPiece tokens out (tokens, ids or JSON Lines),
// in input order, with the lines tokenized in parallel.
//
//   echo "Hello, world!" | bertctl tokenize --vocab vocab.txt              # [CLS] hello , world ! [SEP]
//   bertctl tokenize -m checkpoint/ --format jsonl --max-length 128 corpus.txt
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>  // format, format_int

#include "command.hpp"
#include "core/error.hpp"            // fail_usage
#include "core/line_reader.hpp"      // LineReader, LineBatch
#include "core/ordered_workers.hpp"  // OrderedWorkers
#include "core/output.hpp"           // Output, append_json_string
#include "model/model.hpp"            // load_model (a model file's vocabulary)
#include "text/tokenizer.hpp"        // Tokenizer
#include "text_input.hpp"            // TextInputOptions, read_line_texts

namespace bertctl {

struct TokenizeOptions {
  TextInputOptions input;                // files, --pair, --input-format, fields, --on-error
  std::string vocab, tokenizer, model;   // exactly one
  std::string format = "tokens";         // tokens | ids | jsonl
  bool no_special_tokens = false;
  int max_length = 0;
  bool pad = false;
  std::string offsets = "chars";  // chars | bytes
  std::optional<bool> lowercase;  // given: overrides the tokenizer's own setting
  int threads = 1;
};

// Whether a file starts (after white space) with '{': a tokenizer.json, never a vocab.txt's first token.
static bool looks_like_json(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;  // the loader says why
  int c;
  while ((c = std::fgetc(f)) == ' ' || c == '\n' || c == '\r' || c == '\t') {
  }
  std::fclose(f);
  return c == '{';
}

// The one place that turns the command line into a tokenizer. -m takes a Hugging Face checkpoint
// directory (its tokenizer.json, else vocab.txt + tokenizer_config.json).
bert::text::Tokenizer load_tokenizer_for(const TokenizeOptions& o) {
  int given = !o.vocab.empty() + !o.tokenizer.empty() + !o.model.empty();
  if (given == 0) bert::fail_usage("no vocabulary: give --vocab FILE, --tokenizer FILE or -m MODEL");
  if (given > 1) bert::fail_usage("give only one of --vocab, --tokenizer and -m");
  // A tokenizer.json given as --vocab (or a vocab.txt as --tokenizer) is read as what it is.
  std::string vocab = o.vocab, tokenizer_json = o.tokenizer;
  const std::string& given_file = !o.vocab.empty() ? o.vocab : o.tokenizer;
  if (!given_file.empty() && looks_like_json(given_file) != o.vocab.empty()) {
    std::fprintf(stderr, "bertctl: tokenize: note: %s is a %s; reading it as one (%s)\n", given_file.c_str(),
                 o.vocab.empty() ? "vocabulary with one token per line" : "tokenizer.json",
                 o.vocab.empty() ? "--vocab" : "--tokenizer");
    std::swap(vocab, tokenizer_json);
  }
  bert::text::Tokenizer tok = !vocab.empty()            ? bert::text::Tokenizer::from_vocab_txt(vocab)
                              : !tokenizer_json.empty() ? bert::text::Tokenizer::from_tokenizer_json(tokenizer_json)
                              : bert::model::is_hf_checkpoint_dir(o.model)
                                  ? bert::text::Tokenizer::from_path(o.model)
                                  : *bert::model::load_model(o.model).tokenizer;  // a model file: mapped, cheap
  if (o.lowercase && *o.lowercase != tok.config().lowercase) {
    bert::text::TokenizerConfig config = tok.config();
    config.lowercase = *o.lowercase;  // strip_accents, when unset, follows it as in the reference
    tok = bert::text::Tokenizer(tok.vocab(), config);
  }
  return tok;
}

namespace {

// What one batch of lines turns into: the output text, and the first error, if any, after which
// the batch stopped (its earlier lines are still printed).
struct BatchOutput {
  std::string text;
  std::string error;
};

void append_tokens(const bert::text::Tokenizer& tok, const bert::text::Encoding& e, std::string& out) {
  for (size_t i = 0; i < e.ids.size(); ++i) {
    if (i) out.push_back(' ');
    out.append(tok.token(e.ids[i]));
  }
  out.push_back('\n');
}

void append_ids(const bert::text::Encoding& e, std::string& out) {
  for (size_t i = 0; i < e.ids.size(); ++i) {
    if (i) out.push_back(' ');
    fmt::format_int n(e.ids[i]);
    out.append(n.data(), n.size());
  }
  out.push_back('\n');
}

template <class T, class F>
void append_json_array(std::string& out, const std::vector<T>& v, F&& item) {
  out.push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out.push_back(',');
    item(v[i]);
  }
  out.push_back(']');
}

void append_jsonl(const bert::text::Tokenizer& tok, const bert::text::Encoding& e, bool with_mask,
                  std::string& out) {
  auto number = [&](auto x) {
    fmt::format_int n(x);
    out.append(n.data(), n.size());
  };
  out += "{\"tokens\":";
  append_json_array(out, e.ids, [&](int32_t id) { bert::append_json_string(out, tok.token(id)); });
  out += ",\"ids\":";
  append_json_array(out, e.ids, number);
  out += ",\"type_ids\":";
  append_json_array(out, e.type_ids, number);
  out += ",\"offsets\":";
  append_json_array(out, e.offsets, [&](const std::pair<uint32_t, uint32_t>& o) {
    out.push_back('[');
    number(o.first);
    out.push_back(',');
    number(o.second);
    out.push_back(']');
  });
  if (with_mask) {
    out += ",\"attention_mask\":";
    append_json_array(out, e.attention_mask, [&](uint8_t m) { number(int(m)); });
  }
  out += "}\n";
}

void run_tokenize(const TokenizeOptions& o) {
  const bool pair = o.input.pair;
  const size_t specials = o.no_special_tokens ? 0 : (pair ? 3 : 2);
  if (o.pad && o.max_length == 0) bert::fail_usage("--pad needs --max-length");
  if (o.max_length > 0 && size_t(o.max_length) < specials)
    bert::fail_usage("--max-length {} leaves no room: the special tokens alone take {}", o.max_length, specials);

  const bert::text::Tokenizer tok = load_tokenizer_for(o);
  bert::text::EncodeOptions eo;
  eo.add_special_tokens = !o.no_special_tokens;
  eo.max_length = o.max_length;
  eo.pad_to_max_length = o.pad;
  eo.offset_unit = o.offsets == "bytes" ? bert::text::OffsetUnit::OFFSET_BYTES : bert::text::OffsetUnit::OFFSET_CHARS;

  auto work = [&](bert::LineBatch& batch) {
    BatchOutput r;
    bert::text::Encoding e;
    LineTexts texts;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (std::string err = read_batch_line_texts(o.input, batch, i, texts); !err.empty()) {
        r.error = fmt::format("{}:{}: {}", batch.source, batch.line_number(i), err);
        break;  // the lines before it are still printed
      }
      if (pair)
        tok.encode_pair_into(texts.a, texts.b, eo, e);
      else
        tok.encode_into(texts.a, eo, e);
      if (o.format == "tokens")
        append_tokens(tok, e, r.text);
      else if (o.format == "ids")
        append_ids(e, r.text);
      else
        append_jsonl(tok, e, o.pad, r.text);
    }
    return r;
  };

  bert::Output out;
  auto emit = [&](BatchOutput& r) {
    out.write(r.text);
    if (!r.error.empty()) {
      out.flush();
      throw bert::Error(bert::ErrorKind::ERROR_INPUT, r.error);
    }
  };
  bert::OrderedWorkers<bert::LineBatch, BatchOutput> pool(o.threads, work, emit);
  bert::LineReader reader(o.input.inputs, o.input.max_line_bytes);
  bert::LineBatch batch;
  while (reader.next_batch(batch, 1024, 1 << 18)) {
    pool.submit(std::move(batch));
    if (!reader.input_ready()) {  // a pipe waiting for its writer: answer what came
      pool.emit_all();
      out.flush();
    }
  }
  pool.finish();
  out.flush();
  report_cut_lines("tokenize", reader);
}

}  // namespace

void add_tokenize_command(CLI::App& root) {
  auto o = std::make_shared<TokenizeOptions>();
  CLI::App* app = root.add_subcommand("tokenize", "Split text into WordPiece tokens, one output line per input line");
  add_text_input_options(*app, o->input);
  auto* vocab = app->add_option("--vocab", o->vocab, "WordPiece vocabulary (vocab.txt)")->type_name("FILE");
  auto* tokenizer =
      app->add_option("--tokenizer", o->tokenizer, "Hugging Face tokenizer.json (WordPiece)")->type_name("FILE");
  auto* model = app->add_option("-m,--model", o->model, "Model file or Hugging Face checkpoint directory")->type_name("MODEL");
  vocab->excludes(tokenizer)->excludes(model);
  tokenizer->excludes(model);
  app->add_option("--format", o->format, "Output: tokens, ids or jsonl")
      ->check(CLI::IsMember({"tokens", "ids", "jsonl"}))
      ->capture_default_str();
  app->add_flag("--no-special-tokens", o->no_special_tokens, "Leave out [CLS] and [SEP]");
  app->add_option("--max-length", o->max_length, "Truncate to N tokens, special tokens included (pairs: longest first)")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  app->add_flag("--pad", o->pad, "Pad with [PAD] up to --max-length");
  app->add_option("--offsets", o->offsets, "Unit of jsonl offsets: chars (code points) or bytes")
      ->check(CLI::IsMember({"chars", "bytes"}))
      ->capture_default_str();
  // As init has them: giving both is an error, not "the last one wins".
  auto* lower = app->add_flag_function("--lowercase", [o](int64_t) { o->lowercase = true; },
                                       "Lower-case (and strip accents), overriding the tokenizer files");
  app->add_flag_function("--no-lowercase", [o](int64_t) { o->lowercase = false; },
                         "Keep case and accents, overriding the tokenizer files")
      ->excludes(lower);
  add_threads_flag(*app, o->threads);
  app->callback([o] { run_tokenize(*o); });
}

}  // namespace bertctl
