// bertctl finetune: a CSV/TSV/JSONL file of texts and labels in, a classifier model file out.
// Progress goes to stderr (a live bar on a terminal, plain lines otherwise); --log writes one JSON
// object per report and per evaluation; Ctrl-C writes a checkpoint to resume from.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <csignal>
#include <cstdio>
#include <memory>
#include <sstream>

#include <fmt/ranges.h>  // fmt::join
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "dataset_options.hpp"
#include "core/error.hpp"
#include "core/file.hpp"
#include "core/json.hpp"  // try_parse_json (bounded nesting)
#include "core/output.hpp"
#include "model/init.hpp"  // make_task_model
#include "model/model.hpp"
#include "ops/ops.hpp"
#include "train/checkpoint.hpp"  // is_checkpoint
#include "train/finetune.hpp"

namespace bertctl {

namespace {

struct FinetuneOptions {
  std::string base, train, eval, output, log, resume, checkpoint;
  double eval_split = 0;
  DatasetOptions data;
  bert::train::FinetuneConfig run;
  double lr = 5e-5, weight_decay = 0.01, max_grad_norm = 1.0;
  std::string schedule = "linear";
  bool no_decay_norm_bias = true;
  bool no_shuffle = false;
  float dropout = -1;
  uint64_t seed = 42;
  int train_layers = -1;
  bool freeze_encoder = false;
  int64_t log_every = 0;
  int threads = 1;
  bool force = false, quiet = false;
  bool new_head = false;
  std::string task;     // "": the base model's, else sequence-classification
  std::string labels;   // token classification: the tag set (list or file)
  int doc_stride = -1;  // question answering
  const CLI::App* app = nullptr;  // which options were given (a resumed run takes the others)
};

// A resumed run takes every setting the command line does not give from the checkpoint, so
// `finetune --resume CKPT --train DATA -o OUT` continues the run as it was.
void take_checkpoint_settings(FinetuneOptions& o) {
  nlohmann::json saved;
  if (std::string err = bert::try_parse_json(bert::train::checkpoint_settings(o.resume), saved); !err.empty())
    bert::fail_model("{}: malformed run settings: {}", o.resume, err);
  if (!saved.is_object()) bert::fail_model("{}: malformed run settings", o.resume);
  auto given = [&](const char* flag) { return o.app->get_option(flag)->count() > 0; };
  auto take = [&](const char* flag, const char* key, auto& field) {
    if (given(flag) || !saved.contains(key)) return;
    try {
      field = saved[key].get<std::decay_t<decltype(field)>>();
    } catch (const nlohmann::json::exception&) {
      bert::fail_model("{}: run setting '{}' has the wrong type", o.resume, key);
    }
  };
  take("--epochs", "epochs", o.run.epochs);
  take("--batch-size", "batch_size", o.run.batch_size);
  take("--grad-accum", "grad_accum", o.run.grad_accum);
  take("--max-length", "max_length", o.run.max_length);
  take("--warmup-ratio", "warmup_ratio", o.run.warmup_ratio);
  take("--lr", "lr", o.lr);
  take("--weight-decay", "weight_decay", o.weight_decay);
  take("--max-grad-norm", "max_grad_norm", o.max_grad_norm);
  take("--schedule", "schedule", o.schedule);
  take("--seed", "seed", o.seed);
  take("--train-layers", "train_layers", o.train_layers);
  take("--class-weights", "class_weights", o.run.class_weights);
  take("--freeze-encoder", "freeze_encoder", o.freeze_encoder);
  bool shuffle = !o.no_shuffle, decay = !o.no_decay_norm_bias;
  take("--no-shuffle", "shuffle", shuffle);
  take("--no-decay-norm-bias", "decay_norm_and_bias", decay);
  o.no_shuffle = !shuffle;
  o.no_decay_norm_bias = !decay;
}

std::atomic<bool> g_interrupted{false};

void on_sigint(int) { g_interrupted.store(true); }

std::string clock(double seconds) {
  const long s = long(seconds);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60) : fmt::format("{}:{:02}", s / 60, s % 60);
}

// Writes --log lines; flushed per line so `tail -f` follows a run.
class JsonLog {
 public:
  // A resumed run appends, so the log of the whole run stays in one file.
  JsonLog(const std::string& path, bool append) : path_(path) {
    if (!path.empty() && !(file_ = std::fopen(path.c_str(), append ? "a" : "w")))
      bert::fail_io("cannot create {}: {}", path, std::strerror(errno));
  }
  ~JsonLog() {
    if (file_) std::fclose(file_);
  }
  void write(const std::string& line) {
    if (!file_) return;
    // A log that cannot be written (a full disk, /dev/full) ends the run rather than vanish.
    if (std::fputs(line.c_str(), file_) < 0 || std::fputc('\n', file_) == EOF || std::fflush(file_) != 0)
      bert::fail_io("cannot write {}: {}", path_, std::strerror(errno));
  }

 private:
  std::string path_;
  FILE* file_ = nullptr;
};

namespace tr = bert::train;

// What a run trains: the model with its head, the task's features and how to say what they are.
struct Prepared {
  bert::model::Model model;
  tr::TaskData data;
  std::vector<std::string> notes;
  std::string summary;  // "N training rows, M evaluation rows, labels: ..."
  size_t training_examples = 0;
};

// --task, else the task of a model that already has a trainable head, else sequence classification.
bert::model::Task training_task(const FinetuneOptions& o, const bert::model::BertConfig& c) {
  using bert::model::Task;
  auto trainable = [](Task t) {
    return t == Task::TASK_SEQUENCE_CLASSIFICATION || t == Task::TASK_TOKEN_CLASSIFICATION ||
           t == Task::TASK_QUESTION_ANSWERING;
  };
  if (o.task.empty()) return trainable(c.task) ? c.task : Task::TASK_SEQUENCE_CLASSIFICATION;
  const bert::model::TaskSpec* s = bert::model::find_task_by_name(o.task);
  if (!s || !trainable(s->task))
    bert::fail_usage("--task {}: finetune trains sequence-classification, token-classification or "
                     "question-answering", o.task);
  if (!o.resume.empty() && s->task != c.task)
    bert::fail_usage("{} is a {} run; --task {} cannot resume it", o.resume, c.spec().name, o.task);
  return s->task;
}

int max_length_for(const FinetuneOptions& o, const bert::model::Model& m, int fallback) {
  const int asked = o.app->get_option("--max-length")->count() || !o.resume.empty() ? o.run.max_length : fallback;
  return std::min(asked, m.config.max_position_embeddings);
}

void prepare_classification(FinetuneOptions& o, Prepared& p) {
  const tr::DatasetSpec spec = o.data.resolved();
  tr::Dataset train = tr::read_dataset(o.train, spec);
  report_dataset(train, "finetune", o.quiet);
  std::vector<tr::Example> eval_rows;
  if (!o.eval.empty()) {
    tr::Dataset eval = tr::read_dataset(o.eval, spec);
    report_dataset(eval, "finetune", o.quiet);
    eval_rows = std::move(eval.rows);
  } else if (o.eval_split > 0) {
    tr::split_for_eval(train.rows, eval_rows, o.eval_split, o.seed);
  }
  if (o.resume.empty()) {
    // The head's labels come from the training file (rows held out by --eval-split included), or the
    // model's own head if it covers them: a label only --eval has would throw away a head the user
    // made (init --labels), unless --new-head asks for that.
    std::vector<tr::Example> labelled = train.rows;
    if (o.new_head || o.eval.empty()) labelled.insert(labelled.end(), eval_rows.begin(), eval_rows.end());
    p.model = o.new_head ? bert::model::make_task_model(p.model, bert::model::Task::TASK_SEQUENCE_CLASSIFICATION,
                                                        tr::sorted_labels(labelled), o.seed)
                         : tr::prepare_classifier(std::move(p.model), tr::sorted_labels(labelled), o.seed, p.notes);
  }
  const auto& known = p.model.config.labels;
  // One label makes a softmax that is always 1: loss 0 from the first step, nothing learnt.
  if (known.size() < 2)
    bert::fail_input("{}: every training row has the label '{}'; a classifier needs rows of at least two labels",
                     o.train, known.empty() ? "" : known.front());
  for (const tr::Example& e : eval_rows)
    if (std::find(known.begin(), known.end(), e.label) == known.end())
      bert::fail_input("{} row {}: label '{}' is not among the model's labels ({}); no training row has it{}", o.eval,
                       e.row, e.label, fmt::join(known, ", "),
                       o.resume.empty() ? " (--new-head trains a new head for the labels of both files)" : "");
  p.summary = fmt::format("{} training rows, {} evaluation rows, labels: {}", train.rows.size(), eval_rows.size(),
                          fmt::join(known, ", "));
  p.training_examples = train.rows.size();
  p.data = tr::classification_data(p.model, train.rows, eval_rows, max_length_for(o, p.model, o.run.max_length));
}

// --labels: a comma-separated list, or a file with one label per line (labels.txt).
std::vector<std::string> parse_labels(const std::string& arg) {
  std::vector<std::string> out;
  const bool file = arg.find(',') == std::string::npos && bert::file_exists(arg);
  std::stringstream ss(file ? bert::read_file(arg) : arg);
  for (std::string l; std::getline(ss, l, file ? '\n' : ',');) {
    while (!l.empty() && (l.back() == '\r' || l.back() == ' ')) l.pop_back();
    if (l.empty()) continue;
    if (std::find(out.begin(), out.end(), l) != out.end()) bert::fail_usage("--labels: '{}' is given twice", l);
    out.push_back(l);
  }
  if (out.size() < 2) bert::fail_usage("--labels: a tagger needs at least two labels (got {})", out.size());
  return out;
}

void prepare_token_classification(FinetuneOptions& o, Prepared& p) {
  std::vector<std::string> labels = o.labels.empty() ? std::vector<std::string>{} : parse_labels(o.labels);
  if (!o.resume.empty()) labels = p.model.config.labels;
  tr::ConllData train = tr::read_conll(o.train, labels);
  tr::ConllData eval;
  if (!o.eval.empty()) {
    if (labels.empty()) {  // the training data's tags, which the evaluation data must not exceed
      std::vector<tr::TaggedSentence> all = train.sentences;
      labels = tr::conll_labels(all);
    }
    eval = tr::read_conll(o.eval, labels);
  } else if (o.eval_split > 0) {
    tr::split_for_eval(train.sentences, eval.sentences, o.eval_split, o.seed);
  }
  for (const tr::ConllData* d : {&train, &eval})
    if (d->broken_bio)
      p.notes.push_back(fmt::format("{} tag(s) break BIO (an I- tag that continues no entity; first: {}); they are "
                                    "trained as written, and the strict evaluation starts no entity at them",
                                    d->broken_bio, d->first_broken_bio));
  if (labels.empty()) {
    std::vector<tr::TaggedSentence> all = train.sentences;
    all.insert(all.end(), eval.sentences.begin(), eval.sentences.end());
    labels = tr::conll_labels(all);
  }
  if (o.resume.empty()) {
    const auto& have = p.model.config.labels;
    const bool reuse = !o.new_head && p.model.config.task == bert::model::Task::TASK_TOKEN_CLASSIFICATION &&
                       std::all_of(labels.begin(), labels.end(), [&](const std::string& l) {
                         return std::find(have.begin(), have.end(), l) != have.end();
                       });
    if (!reuse) p.model = bert::model::make_task_model(p.model, bert::model::Task::TASK_TOKEN_CLASSIFICATION, labels, o.seed);
  }
  p.summary = fmt::format("{} training sentences, {} evaluation sentences, labels: {}", train.sentences.size(),
                          eval.sentences.size(), fmt::join(p.model.config.labels, ", "));
  p.training_examples = train.sentences.size();
  p.data = tr::token_classification_data(p.model, train.sentences, eval.sentences,
                                         max_length_for(o, p.model, o.run.max_length));
}

void prepare_question_answering(FinetuneOptions& o, Prepared& p) {
  std::vector<tr::SquadQuestion> train = tr::read_squad(o.train), eval;
  if (!o.eval.empty())
    eval = tr::read_squad(o.eval);
  else if (o.eval_split > 0)
    tr::split_for_eval(train, eval, o.eval_split, o.seed);
  if (o.resume.empty() && (o.new_head || p.model.config.task != bert::model::Task::TASK_QUESTION_ANSWERING))
    p.model = bert::model::make_task_model(p.model, bert::model::Task::TASK_QUESTION_ANSWERING, {}, o.seed);
  // run_qa.py's defaults: windows of 384 tokens sharing 128.
  const int max_length = max_length_for(o, p.model, 384);
  o.run.max_length = max_length;
  const int stride = o.doc_stride >= 0 ? o.doc_stride : std::min(128, max_length / 2);
  size_t unanswerable = 0;
  for (const auto& q : train) unanswerable += q.answers.empty();
  p.summary = fmt::format("{} training questions ({} without an answer), {} evaluation questions; windows of {} "
                          "tokens sharing {}",
                          train.size(), unanswerable, eval.size(), max_length, stride);
  p.training_examples = train.size();
  p.data = tr::question_answering_data(p.model, train, eval, max_length, stride);
}

void run_finetune(FinetuneOptions& o) {
  if (o.base.empty() && o.resume.empty()) bert::fail_usage("give the model to start from with -m (or --resume CKPT)");
  if (o.new_head && !o.resume.empty()) bert::fail_usage("--new-head starts a run; it cannot --resume one");
  if (std::filesystem::is_directory(o.output))
    bert::fail_usage("-o {} is a directory; give the model file to write", o.output);
  if (o.output == "-") bert::fail_usage("finetune writes a model file, with its checkpoints beside it: give -o FILE");
  if (!o.eval.empty() && o.eval_split > 0) bert::fail_usage("give either --eval or --eval-split, not both");
  const bool has_eval = !o.eval.empty() || o.eval_split > 0;
  if (!o.run.keep_best.empty() && !has_eval)
    bert::fail_usage("--keep-best needs evaluation data (--eval FILE or --eval-split F)");
  if (o.run.eval_every > 0 && !has_eval)
    bert::fail_usage("--eval-every needs evaluation data (--eval FILE or --eval-split F)");
  if (!o.resume.empty() && !tr::is_checkpoint(o.resume))
    bert::fail_input("{} is not a training checkpoint (finetune writes them as OUTPUT.ckpt)", o.resume);
  if (o.resume.empty() && !o.force)
    for (const std::string& p : {o.output, o.checkpoint.empty() ? o.output + ".ckpt" : o.checkpoint})
      if (bert::output_would_replace(p)) bert::fail_usage("{} exists; pass --force to overwrite it (or --resume a checkpoint)", p);
  bert::ops::set_num_threads(o.threads);
  if (!o.resume.empty()) take_checkpoint_settings(o);

  // The model first: a checkpoint or a base model with a task head says what is trained.
  Prepared prepared;
  prepared.model = bert::model::load_model(o.resume.empty() ? o.base : o.resume, {.writable = true});
  const bert::model::Task task = training_task(o, prepared.model.config);
  if (task != bert::model::Task::TASK_QUESTION_ANSWERING && o.app->get_option("--doc-stride")->count())
    bert::fail_usage("--doc-stride applies to --task question-answering");
  if (task == bert::model::Task::TASK_SEQUENCE_CLASSIFICATION && !o.labels.empty())
    bert::fail_usage("--labels applies to --task token-classification (a classifier's labels come from the data)");
  if (task == bert::model::Task::TASK_TOKEN_CLASSIFICATION)
    prepare_token_classification(o, prepared);
  else if (task == bert::model::Task::TASK_QUESTION_ANSWERING)
    prepare_question_answering(o, prepared);
  else
    prepare_classification(o, prepared);
  bert::model::Model& model = prepared.model;
  const std::vector<std::string>& notes = prepared.notes;
  if (o.dropout >= 0) {
    model.config.hidden_dropout_prob = model.config.attention_probs_dropout_prob = o.dropout;
    model.config.classifier_dropout = o.dropout;
  }

  tr::FinetuneConfig& rc = o.run;
  rc.output = o.output;
  rc.checkpoint = o.checkpoint;
  rc.resume = o.resume;
  rc.shuffle = !o.no_shuffle;
  rc.trainer.adamw.lr = o.lr;
  rc.trainer.adamw.weight_decay = o.weight_decay;
  rc.trainer.decay_norm_and_bias = !o.no_decay_norm_bias;
  rc.trainer.max_grad_norm = o.max_grad_norm;
  rc.trainer.schedule = o.schedule == "constant" ? tr::Schedule::SCHEDULE_CONSTANT : tr::Schedule::SCHEDULE_LINEAR;
  rc.trainer.seed = o.seed;
  rc.trainer.freeze_encoder = o.freeze_encoder;
  rc.trainer.train_layers = o.train_layers;
  tr::FinetuneRun run(model, std::move(prepared.data), rc);

  const bool tty = ::isatty(2);
  auto say = [&](const std::string& s) {
    if (!o.quiet) std::fprintf(stderr, "%sbertctl: finetune: %s\n", tty ? "\r\033[K" : "", s.c_str());
  };
  for (const std::string& n : notes) say(n);
  const int64_t steps_per_epoch = run.total_steps() / std::max(1, rc.epochs);
  say(fmt::format("{}; {} epoch{} of {} step{}", prepared.summary, rc.epochs, rc.epochs == 1 ? "" : "s",
                  steps_per_epoch, steps_per_epoch == 1 ? "" : "s"));
  if (size_t n = run.truncated_rows())
    say(fmt::format("{} of {} training {} are longer than --max-length {} and are truncated", n,
                    prepared.training_examples,
                    task == bert::model::Task::TASK_TOKEN_CLASSIFICATION ? "sentences" : "texts",
                    std::min(rc.max_length, model.config.max_position_embeddings)));

  JsonLog log(o.log, !o.resume.empty());
  const int64_t log_every = o.log_every > 0 ? o.log_every : std::max<int64_t>(1, run.total_steps() / rc.epochs / 10);
  tr::FinetuneCallbacks cb;
  cb.interrupt = &g_interrupted;
  cb.on_note = say;
  auto last_draw = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  cb.on_step = [&](const tr::Progress& p) {
    const bool report = p.step % log_every == 0 || p.micro == p.micro_per_epoch;
    if (report)
      log.write(nlohmann::json{{"event", "train"}, {"epoch", p.epoch + 1}, {"step", p.step}, {"loss", p.loss},
                               {"lr", p.lr}, {"examples_per_second", p.examples_per_second}, {"seconds", p.seconds}}
                    .dump());
    if (o.quiet) return;
    const double eta = p.step ? p.seconds / double(p.step) * double(p.total_steps - p.step) : 0;
    if (tty) {  // a live bar, redrawn at most ten times a second
      const auto now = std::chrono::steady_clock::now();
      if (now - last_draw < std::chrono::milliseconds(100) && p.step != p.total_steps) return;
      last_draw = now;
      const int width = 24, filled = int(double(width) * double(p.micro) / double(std::max<int64_t>(1, p.micro_per_epoch)));
      std::fprintf(stderr, "\r\033[Kepoch %d/%d [%s%s] step %lld/%lld  loss %.4f  %.1f ex/s  ETA %s", p.epoch + 1,
                   p.epochs, std::string(size_t(filled), '#').c_str(), std::string(size_t(width - filled), '.').c_str(),
                   static_cast<long long>(p.step), static_cast<long long>(p.total_steps), p.loss,
                   p.examples_per_second, clock(eta).c_str());
    } else if (report) {
      std::fprintf(stderr, "bertctl: finetune: epoch %d/%d step %lld/%lld loss %.4f lr %.3g %.1f ex/s elapsed %s ETA %s\n",
                   p.epoch + 1, p.epochs, static_cast<long long>(p.step), static_cast<long long>(p.total_steps), p.loss,
                   p.lr, p.examples_per_second, clock(p.seconds).c_str(), clock(eta).c_str());
    }
  };
  bert::Output report;
  cb.on_eval = [&](const tr::Progress& p, const tr::Metrics& m, bool best) {
    nlohmann::json j = nlohmann::json::parse(tr::metrics_json(m, model.config.labels));
    j["event"] = "eval";
    j["epoch"] = p.epoch + 1;
    j["step"] = p.step;
    j["best"] = best;
    log.write(j.dump());
    // The evaluation is the run's report, not a diagnostic: standard output (finetune writes
    // nothing else there), even with -q; the progress bar is cleared first.
    if (tty && !o.quiet) std::fputs("\r\033[K", stderr);
    report.write(fmt::format("evaluation after step {} (epoch {}){}\n{}", p.step, p.epoch + 1,
                             best ? ", best so far" : "", tr::format_metrics(m, model.config.labels)));
    report.flush();
  };

  // Ctrl-C: finish the step, write a checkpoint, stop (main's handler would just end the process).
  auto previous = std::signal(SIGINT, on_sigint);
  bool finished = false;
  try {
    finished = run.train(cb);
  } catch (...) {
    std::signal(SIGINT, previous);
    throw;
  }
  std::signal(SIGINT, previous);
  if (tty && !o.quiet) std::fputs("\n", stderr);
  if (finished)
    say(fmt::format("wrote {}", o.output));
  else
    say(fmt::format("stopped after step {}; continue with --resume {}", rc.stop_after_steps, run.checkpoint_path()));
}

}  // namespace

void add_finetune_command(CLI::App& root) {
  auto o = std::make_shared<FinetuneOptions>();
  CLI::App* app = root.add_subcommand("finetune", "Train a classifier (CSV, TSV or JSON Lines of texts and labels), a tagger (CoNLL) or a question answerer (SQuAD JSON)");
  app->add_option("-m,--model", o->base, "Model to start from: a model file, a Hugging Face directory, or bertctl init's output");
  app->add_option("--task", o->task,
                  "What to train: sequence-classification (CSV/TSV/JSONL rows), token-classification (CoNLL) or "
                  "question-answering (SQuAD JSON); default: the model's own head, else sequence-classification")
      ->check(CLI::IsMember({"sequence-classification", "token-classification", "question-answering"}));
  app->add_option("--train", o->train, "Training data (.csv, .tsv or .jsonl; .conll; SQuAD .json)")->required();
  app->add_option("--labels", o->labels,
                  "token-classification: the tags, comma-separated or a file with one per line (default: the data's)");
  app->add_option("--doc-stride", o->doc_stride,
                  "question-answering: context tokens that consecutive windows share (default: min(128, max-length/2))")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--eval", o->eval, "Evaluation data, in the same format");
  app->add_option("--eval-split", o->eval_split, "Hold out this fraction of the training data for evaluation")
      ->check(CLI::Range(0.0, 0.9));
  app->add_option("-o,--output", o->output, "Model file to write")->required();
  add_dataset_options(*app, o->data, "Rows with a missing text or label: fail (before training) or skip");
  app->add_option("--epochs", o->run.epochs, "Passes over the training data")->check(CLI::Range(1, 100000))->capture_default_str();
  app->add_option("-b,--batch-size", o->run.batch_size, "Examples per micro-batch")->check(CLI::Range(1, 4096))->capture_default_str();
  app->add_option("--grad-accum", o->run.grad_accum, "Micro-batches per optimizer step")->check(CLI::Range(1, 4096))->capture_default_str();
  app->add_option("--lr", o->lr, "Peak learning rate (AdamW)")->check(CLI::PositiveNumber)->capture_default_str();
  app->add_option("--weight-decay", o->weight_decay, "AdamW decoupled weight decay")->check(CLI::Range(0.0, 1.0))->capture_default_str();
  app->add_flag("--no-decay-norm-bias,!--decay-norm-bias", o->no_decay_norm_bias,
                "No weight decay on biases and LayerNorm weights (default; --decay-norm-bias decays all)");
  app->add_option("--max-grad-norm", o->max_grad_norm, "Clip gradients to this global L2 norm (0: no clipping)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app->add_option("--warmup-ratio", o->run.warmup_ratio, "Fraction of the steps with a linear warm-up")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app->add_option("--schedule", o->schedule, "Learning rate after warm-up: linear (decay to 0) or constant")
      ->check(CLI::IsMember({"linear", "constant"}))
      ->capture_default_str();
  app->add_option("--max-length", o->run.max_length,
                  "Truncate texts to N tokens (question-answering: the window, default 384)")
      ->check(CLI::Range(3, 1 << 16))
      ->capture_default_str();
  app->add_option("--dropout", o->dropout, "Override the model's dropout probabilities")->check(CLI::Range(0.0, 0.99));
  app->add_option("--class-weights", o->run.class_weights, "Loss weights per label: auto (inverse frequency) or w1,w2,...");
  app->add_option("--seed", o->seed, "Seed for initialisation, shuffling and dropout")->capture_default_str();
  app->add_flag("--no-shuffle", o->no_shuffle, "Keep the training data in file order");
  app->add_flag("--freeze-encoder", o->freeze_encoder, "Train only the classification head");
  app->add_flag("--new-head", o->new_head,
                "Train a new classification head for the labels of the training and evaluation files, "
                "even if the model has one");
  app->add_option("--train-layers", o->train_layers, "Train only the top N encoder layers (and the head)")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--eval-every", o->run.eval_every, "Also evaluate every N steps")->check(CLI::NonNegativeNumber);
  app->add_option("--keep-best", o->run.keep_best,
                  "Keep the best model by this metric as the output: accuracy, macro_f1, f1 (entity or SQuAD F1), "
                  "exact_match or loss")
      ->check(CLI::IsMember({"accuracy", "macro_f1", "f1", "exact_match", "loss"}));
  app->add_option("--save-every", o->run.save_every, "Also write a checkpoint every N steps")->check(CLI::NonNegativeNumber);
  app->add_option("--checkpoint", o->checkpoint, "Checkpoint file (default: OUTPUT.ckpt)");
  app->add_option("--resume", o->resume, "Continue the run saved in this checkpoint");
  app->add_option("--stop-after-steps", o->run.stop_after_steps, "Stop after N optimizer steps, with a checkpoint")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--log", o->log, "Write one JSON object per progress report and evaluation to FILE");
  app->add_option("--log-every", o->log_every, "Steps between progress reports (default: a tenth of an epoch)")
      ->check(CLI::NonNegativeNumber);
  add_threads_flag(*app, o->threads);
  app->add_flag("-f,--force", o->force, "Overwrite an existing output or checkpoint");
  app->add_flag("-q,--quiet", o->quiet, "No progress on stderr");
  o->app = app;
  app->callback([o] { run_finetune(*o); });
}

}  // namespace bertctl
