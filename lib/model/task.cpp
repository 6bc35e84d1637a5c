#include "model/task.hpp"

namespace bert::model {

namespace {

using enum Task;
using enum HeadInput;

constexpr TaskSpec kTasks[] = {
    // task, HF class, name, pooler, mlm, nsp, linear head, head input, fixed outputs, head dropout
    {TASK_ENCODER, "BertModel", "encoder", true, false, false, nullptr, HEAD_INPUT_NONE, 0, false},
    {TASK_MASKED_LM, "BertForMaskedLM", "masked-lm", false, true, false, nullptr, HEAD_INPUT_NONE, 0, false},
    {TASK_PRETRAINING, "BertForPreTraining", "pretraining", true, true, true, nullptr, HEAD_INPUT_NONE, 0, false},
    {TASK_SEQUENCE_CLASSIFICATION, "BertForSequenceClassification", "sequence-classification", true, false, false,
     "classifier", HEAD_INPUT_POOLED, 0, true},
    {TASK_TOKEN_CLASSIFICATION, "BertForTokenClassification", "token-classification", false, false, false,
     "classifier", HEAD_INPUT_TOKENS, 0, true},
    {TASK_QUESTION_ANSWERING, "BertForQuestionAnswering", "question-answering", false, false, false, "qa_outputs",
     HEAD_INPUT_TOKENS, 2, false},
};

}  // namespace

const TaskSpec& task_spec(Task task) {
  for (const TaskSpec& s : kTasks)
    if (s.task == task) return s;
  return kTasks[0];
}

std::span<const TaskSpec> all_tasks() { return kTasks; }

const TaskSpec* find_task_by_class(const std::string& hf_class) {
  for (const TaskSpec& s : kTasks)
    if (hf_class == s.hf_class) return &s;
  return nullptr;
}

const TaskSpec* find_task_by_name(const std::string& name) {
  for (const TaskSpec& s : kTasks)
    if (name == s.name) return &s;
  return nullptr;
}

std::string task_class_list() {
  std::string out;
  for (const TaskSpec& s : kTasks) out += (out.empty() ? "" : ", ") + std::string(s.hf_class);
  return out;
}

std::string task_name_list() {
  std::string out;
  for (const TaskSpec& s : kTasks) out += (out.empty() ? "" : ", ") + std::string(s.name);
  return out;
}

}  // namespace bert::model
