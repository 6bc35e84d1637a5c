// Tasks: what sits on top of the BERT encoder, as one table. Each row says which Hugging Face class
// it is, which weights its head has (HF state-dict names), what the head reads, and how its outputs
// are sized; loading, saving, `init`, inference and training all read this table, so a new task is
// one row here plus its forward/backward in heads.cpp and its loss in train/.
//
//   const TaskSpec& s = task_spec(Task::TASK_TOKEN_CLASSIFICATION);
//   s.hf_class;      // "BertForTokenClassification"
//   s.linear_head;   // "classifier": Linear(C, labels) applied to every token
//   find_task_by_name("question-answering");   // --task names
#pragma once
#include <span>
#include <string>

namespace bert::model {

enum class Task {
  TASK_ENCODER,                  // BertModel: encoder + pooler, names without the "bert." prefix
  TASK_MASKED_LM,                // BertForMaskedLM: + cls.predictions (decoder tied to word embeddings)
  TASK_PRETRAINING,              // BertForPreTraining: + cls.predictions + cls.seq_relationship
  TASK_SEQUENCE_CLASSIFICATION,  // BertForSequenceClassification: classifier on the pooled output
  TASK_TOKEN_CLASSIFICATION,     // BertForTokenClassification: classifier on every token
  TASK_QUESTION_ANSWERING,       // BertForQuestionAnswering: qa_outputs (start, end) on every token
};

// What a task's linear head (y = x·Wᵀ + b) reads.
enum class HeadInput {
  HEAD_INPUT_NONE,    // no linear head
  HEAD_INPUT_POOLED,  // the pooler output, one row per sequence
  HEAD_INPUT_TOKENS,  // the last hidden state, one row per token
};

struct TaskSpec {
  Task task;
  const char* hf_class;      // config.json "architectures"[0]
  const char* name;          // bertctl's name (--task, info)
  bool pooler;               // transformers builds the pooler (add_pooling_layer)
  bool mlm_head;             // cls.predictions
  bool nsp_head;             // cls.seq_relationship
  const char* linear_head;   // HF name of the linear head ("classifier", "qa_outputs"), or null
  HeadInput head_input;
  int fixed_outputs;         // width of the linear head when the task fixes it (QA: 2); 0 = the labels
  // Dropout before the linear head while training (BertForQuestionAnswering has none).
  bool head_dropout;
};

const TaskSpec& task_spec(Task task);
std::span<const TaskSpec> all_tasks();
// By HF class name or by bertctl name; null when unknown.
const TaskSpec* find_task_by_class(const std::string& hf_class);
const TaskSpec* find_task_by_name(const std::string& name);
// "BertModel, BertForMaskedLM, ..." / "encoder, masked-lm, ...", for messages.
std::string task_class_list();
std::string task_name_list();

}  // namespace bert::model
