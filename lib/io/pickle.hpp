// A restricted unpickler: reads the pickle a `torch.save` writes (protocol 2, plus the few opcodes
// of protocols 3-4 a newer writer may use) into plain values, and never runs code. A GLOBAL names
// a class or function; only names on the caller's allow-list are accepted, and any other one stops
// the load at the GLOBAL opcode itself, before a REDUCE could call it. What "calling" an allowed
// global (REDUCE) or a persistent id (BINPERSID) means is up to the caller's hooks, so the
// unpickler knows nothing about tensors.
//
//   PickleHooks hooks;
//   hooks.allowed_globals = {"collections.OrderedDict"};
//   hooks.reduce = [](Unpickler& u, const PickleValue& fn, const PickleValue& args) { ... };
//   Unpickler u(bytes, "pytorch_model.bin", hooks);
//   const PickleValue* root = u.load();   // owned by u
//
// Every malformed input (truncation, stack underflow, bad memo index, nesting beyond
// kPickleMaxDepth, unknown opcode) is a bert::Error (ERROR_MODEL) naming the source and the byte.
// Values live in an arena owned by the Unpickler, so self-referencing pickles cannot leak.
#pragma once
#include <cstdint>
#include <deque>  // arena with stable addresses
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bert::io {

enum class PickleKind {
  PICKLE_NONE,
  PICKLE_BOOL,
  PICKLE_INT,
  PICKLE_FLOAT,
  PICKLE_STRING,  // str (text)
  PICKLE_BYTES,   // bytes
  PICKLE_TUPLE,
  PICKLE_LIST,
  PICKLE_DICT,
  PICKLE_GLOBAL,  // an allowed class or function: text = "module.name"
  PICKLE_OBJECT,  // made by a hook: text = its tag, number = its index in the hook's tables
};

const char* pickle_kind_name(PickleKind kind);

struct PickleValue {
  PickleKind kind = PickleKind::PICKLE_NONE;
  int64_t number = 0;               // BOOL (0/1), INT, OBJECT index
  double real = 0;                  // FLOAT
  std::string text;                 // STRING, BYTES, GLOBAL, OBJECT tag
  std::vector<PickleValue*> items;  // TUPLE, LIST elements; DICT: key0, value0, key1, value1, ...
};

class Unpickler;

struct PickleHooks {
  std::set<std::string, std::less<>> allowed_globals;  // "module.name"
  // BINPERSID: the persistent id (usually a tuple) -> the value it stands for.
  std::function<PickleValue*(Unpickler&, const PickleValue& pid)> persistent_load;
  // REDUCE: an allowed global applied to a tuple of arguments.
  std::function<PickleValue*(Unpickler&, const PickleValue& callable, const PickleValue& args)> reduce;
};

constexpr int kPickleMaxDepth = 1000;  // MARK nesting

class Unpickler {
 public:
  Unpickler(std::string_view bytes, std::string source, const PickleHooks& hooks);
  Unpickler(const Unpickler&) = delete;
  Unpickler& operator=(const Unpickler&) = delete;

  // Runs to STOP and returns the value left on the stack.
  PickleValue* load();

  // A new value owned by this unpickler.
  PickleValue* make(PickleKind kind);
  // Throws ERROR_MODEL "<source>: <message> (pickle byte N)" at the opcode being run.
  [[noreturn]] void fail(const std::string& message) const;
  const std::string& source() const { return source_; }

 private:
  const unsigned char* take(size_t n, const char* what);  // n more bytes or fail
  uint64_t take_uint(size_t n, const char* what);         // little-endian
  PickleValue* pop(const char* op);
  PickleValue* top(const char* op);
  std::vector<PickleValue*> pop_mark(const char* op);
  void push(PickleValue* v) { stack_.push_back(v); }
  PickleValue* make_string(PickleKind kind, size_t n, const char* op);
  void memo_put(uint64_t slot, PickleValue* v);
  PickleValue* make_global(std::string module, std::string name);
  void run(unsigned char op);

  std::string_view bytes_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;  // start of the opcode being run, for messages
  std::string source_;
  const PickleHooks& hooks_;
  std::deque<PickleValue> arena_;
  std::vector<PickleValue*> stack_;
  std::vector<size_t> marks_;  // stack sizes at each MARK
  std::unordered_map<uint64_t, PickleValue*> memo_;
  size_t max_values_;  // values and memo entries this pickle may make (by its size)
  bool stopped_ = false;
};

}  // namespace bert::io
