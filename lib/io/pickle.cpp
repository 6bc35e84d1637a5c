#include "io/pickle.hpp"

#include <bit>      // bit_cast
#include <cstring>  // memchr

#include "core/error.hpp"  // fail_model

namespace bert::io {

namespace {

// The opcodes understood here (names as in Python's pickletools), as one list from which the
// enum and the names are made.
#define BERT_PICKLE_OPCODES(X) \
  X(MARK, '(')                 \
  X(STOP, '.')                 \
  X(POP, '0')                  \
  X(POP_MARK, '1')             \
  X(BINFLOAT, 'G')             \
  X(BININT, 'J')               \
  X(BININT1, 'K')              \
  X(BININT2, 'M')              \
  X(NONE, 'N')                 \
  X(BINPERSID, 'Q')            \
  X(REDUCE, 'R')               \
  X(BINSTRING, 'T')            \
  X(SHORT_BINSTRING, 'U')      \
  X(BINUNICODE, 'X')           \
  X(APPEND, 'a')               \
  X(BUILD, 'b')                \
  X(GLOBAL, 'c')               \
  X(DICT, 'd')                 \
  X(APPENDS, 'e')              \
  X(BINGET, 'h')               \
  X(LONG_BINGET, 'j')          \
  X(LIST, 'l')                 \
  X(BINPUT, 'q')               \
  X(LONG_BINPUT, 'r')          \
  X(SETITEM, 's')              \
  X(TUPLE, 't')                \
  X(SETITEMS, 'u')             \
  X(EMPTY_DICT, '}')           \
  X(EMPTY_LIST, ']')           \
  X(EMPTY_TUPLE, ')')          \
  X(PROTO, 0x80)               \
  X(TUPLE1, 0x85)              \
  X(TUPLE2, 0x86)              \
  X(TUPLE3, 0x87)              \
  X(NEWTRUE, 0x88)             \
  X(NEWFALSE, 0x89)            \
  X(LONG1, 0x8a)               \
  X(LONG4, 0x8b)               \
  X(SHORT_BINBYTES, 'C')       \
  X(BINBYTES, 'B')             \
  X(SHORT_BINUNICODE, 0x8c)    \
  X(BINUNICODE8, 0x8d)         \
  X(STACK_GLOBAL, 0x93)        \
  X(MEMOIZE, 0x94)             \
  X(FRAME, 0x95)

enum Op : unsigned char {
#define BERT_OP_ENUM(name, code) OP_##name = code,
  BERT_PICKLE_OPCODES(BERT_OP_ENUM)
#undef BERT_OP_ENUM
};

const char* op_name(unsigned char op) {
  switch (op) {
#define BERT_OP_NAME(name, code) \
  case OP_##name:                \
    return #name;
    BERT_PICKLE_OPCODES(BERT_OP_NAME)
#undef BERT_OP_NAME
  }
  return nullptr;
}

}  // namespace

const char* pickle_kind_name(PickleKind kind) {
  switch (kind) {
    case PickleKind::PICKLE_NONE:
      return "None";
    case PickleKind::PICKLE_BOOL:
      return "bool";
    case PickleKind::PICKLE_INT:
      return "int";
    case PickleKind::PICKLE_FLOAT:
      return "float";
    case PickleKind::PICKLE_STRING:
      return "str";
    case PickleKind::PICKLE_BYTES:
      return "bytes";
    case PickleKind::PICKLE_TUPLE:
      return "tuple";
    case PickleKind::PICKLE_LIST:
      return "list";
    case PickleKind::PICKLE_DICT:
      return "dict";
    case PickleKind::PICKLE_GLOBAL:
      return "global";
    case PickleKind::PICKLE_OBJECT:
      return "object";
  }
  return "?";
}

Unpickler::Unpickler(std::string_view bytes, std::string source, const PickleHooks& hooks)
    : bytes_(bytes), source_(std::move(source)), hooks_(hooks), max_values_(bytes.size() / 2 + 1024) {}

void Unpickler::fail(const std::string& message) const {
  fail_model("{}: {} (pickle byte {})", source_, message, op_pos_);
}

PickleValue* Unpickler::make(PickleKind kind) {
  // Values cost ~100 bytes each: bound them by the pickle's size (real checkpoints use one value per
  // ~6 bytes) so that a small file of one-byte opcodes cannot take gigabytes.
  if (arena_.size() >= max_values_)
    fail(fmt::format("more than {} values from {} bytes; not a checkpoint's pickle", max_values_, bytes_.size()));
  arena_.emplace_back();
  arena_.back().kind = kind;
  return &arena_.back();
}

const unsigned char* Unpickler::take(size_t n, const char* what) {
  if (n > bytes_.size() - pos_)
    fail(fmt::format("the pickle ends early: {} needs {} more bytes, {} are left", what, n,
                     bytes_.size() - pos_));
  const auto* p = reinterpret_cast<const unsigned char*>(bytes_.data()) + pos_;
  pos_ += n;
  return p;
}

uint64_t Unpickler::take_uint(size_t n, const char* what) {
  const unsigned char* p = take(n, what);
  uint64_t v = 0;
  for (size_t i = n; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

PickleValue* Unpickler::pop(const char* op) {
  size_t floor = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() <= floor)
    fail(fmt::format("stack underflow: {} needs a value and the stack is empty", op));
  PickleValue* v = stack_.back();
  stack_.pop_back();
  return v;
}

PickleValue* Unpickler::top(const char* op) {
  size_t floor = marks_.empty() ? 0 : marks_.back();
  if (stack_.size() <= floor)
    fail(fmt::format("stack underflow: {} needs a value and the stack is empty", op));
  return stack_.back();
}

std::vector<PickleValue*> Unpickler::pop_mark(const char* op) {
  if (marks_.empty()) fail(fmt::format("stack underflow: {} needs a MARK and there is none", op));
  size_t mark = marks_.back();
  marks_.pop_back();
  std::vector<PickleValue*> items(stack_.begin() + long(mark), stack_.end());
  stack_.resize(mark);
  return items;
}

void Unpickler::memo_put(uint64_t slot, PickleValue* v) {
  if (memo_.size() >= max_values_)
    fail(fmt::format("more than {} memo entries from {} bytes; not a checkpoint's pickle", max_values_, bytes_.size()));
  memo_[slot] = v;
}

PickleValue* Unpickler::make_string(PickleKind kind, size_t n, const char* op) {
  const unsigned char* p = take(n, op);
  PickleValue* v = make(kind);
  v->text.assign(reinterpret_cast<const char*>(p), n);
  return v;
}

PickleValue* Unpickler::make_global(std::string module, std::string name) {
  std::string full = module + "." + name;
  if (!hooks_.allowed_globals.count(full))
    fail_model(
        "{}: refusing to load: the pickle asks for global '{}' (only tensors are allowed; loading a "
        "checkpoint never runs code)",
        source_, full);
  PickleValue* v = make(PickleKind::PICKLE_GLOBAL);
  v->text = std::move(full);
  return v;
}

PickleValue* Unpickler::load() {
  while (!stopped_) {
    op_pos_ = pos_;
    if (pos_ >= bytes_.size()) fail("the pickle ends early: no STOP opcode");
    run(static_cast<unsigned char>(bytes_[pos_++]));
  }
  return stack_.back();
}

void Unpickler::run(unsigned char op) {
  const char* name = op_name(op);
  if (!name) fail(fmt::format("unsupported pickle opcode 0x{:02x} (not something torch.save writes)", op));

  auto new_tuple = [&](std::vector<PickleValue*> items) {
    PickleValue* t = make(PickleKind::PICKLE_TUPLE);
    t->items = std::move(items);
    push(t);
  };
  auto expect = [&](const PickleValue* v, PickleKind kind) {
    if (v->kind != kind)
      fail(fmt::format("{} expects a {} but found a {}", name, pickle_kind_name(kind),
                       pickle_kind_name(v->kind)));
  };
  auto memo_get = [&](uint64_t i) {
    auto it = memo_.find(i);
    if (it == memo_.end()) fail(fmt::format("{} of memo slot {}, which was never stored", name, i));
    push(it->second);
  };
  auto read_line = [&]() {
    const char* start = bytes_.data() + pos_;
    const void* nl = std::memchr(start, '\n', bytes_.size() - pos_);
    if (!nl) fail(fmt::format("the pickle ends early: {} argument has no end of line", name));
    size_t n = size_t(static_cast<const char*>(nl) - start);
    pos_ += n + 1;
    return std::string(start, n);
  };
  auto add_items = [&](PickleValue* target, const std::vector<PickleValue*>& items, bool pairs) {
    if (pairs) {
      expect(target, PickleKind::PICKLE_DICT);
      if (items.size() % 2)
        fail(fmt::format("{} needs key/value pairs but got {} values", name, items.size()));
    } else {
      expect(target, PickleKind::PICKLE_LIST);
    }
    target->items.insert(target->items.end(), items.begin(), items.end());
  };

  switch (op) {
    case OP_PROTO: {
      uint64_t v = take_uint(1, name);
      if (v > 5) fail(fmt::format("pickle protocol {} is not supported (at most 5)", v));
      break;
    }
    case OP_FRAME:
      take_uint(8, name);
      break;  // framing only groups opcodes; nothing to do
    case OP_STOP:
      if (stack_.size() != 1 || !marks_.empty())
        fail(fmt::format("STOP with {} values on the stack and {} open MARKs (expected 1 and 0)",
                         stack_.size(), marks_.size()));
      stopped_ = true;
      break;
    case OP_MARK:
      if (marks_.size() >= size_t(kPickleMaxDepth))
        fail(fmt::format("nesting deeper than {} levels", kPickleMaxDepth));
      marks_.push_back(stack_.size());
      break;
    case OP_POP:
      pop(name);
      break;
    case OP_POP_MARK:
      pop_mark(name);
      break;
    case OP_NONE:
      push(make(PickleKind::PICKLE_NONE));
      break;
    case OP_NEWTRUE:
    case OP_NEWFALSE: {
      PickleValue* v = make(PickleKind::PICKLE_BOOL);
      v->number = op == OP_NEWTRUE;
      push(v);
      break;
    }
    case OP_BININT:
    case OP_BININT1:
    case OP_BININT2: {
      size_t n = op == OP_BININT ? 4 : op == OP_BININT1 ? 1 : 2;
      uint64_t u = take_uint(n, name);
      PickleValue* v = make(PickleKind::PICKLE_INT);
      v->number = op == OP_BININT ? int64_t(int32_t(uint32_t(u))) : int64_t(u);
      push(v);
      break;
    }
    case OP_LONG1:
    case OP_LONG4: {
      uint64_t n = take_uint(op == OP_LONG1 ? 1 : 4, name);
      if (n > 8) fail(fmt::format("{} of {} bytes does not fit in 64 bits", name, n));
      uint64_t u = n ? take_uint(size_t(n), name) : 0;
      if (n > 0 && n < 8 && (u >> (8 * n - 1)) & 1) u |= ~uint64_t(0) << (8 * n);  // sign-extend
      PickleValue* v = make(PickleKind::PICKLE_INT);
      v->number = int64_t(u);
      push(v);
      break;
    }
    case OP_BINFLOAT: {
      const unsigned char* p = take(8, name);
      uint64_t u = 0;
      for (int i = 0; i < 8; ++i) u = (u << 8) | p[i];  // big-endian
      PickleValue* v = make(PickleKind::PICKLE_FLOAT);
      v->real = std::bit_cast<double>(u);
      push(v);
      break;
    }
    case OP_SHORT_BINUNICODE:
      push(make_string(PickleKind::PICKLE_STRING, take_uint(1, name), name));
      break;
    case OP_BINUNICODE:
    case OP_BINSTRING:
      push(make_string(PickleKind::PICKLE_STRING, take_uint(4, name), name));
      break;
    case OP_BINUNICODE8: {
      uint64_t n = take_uint(8, name);
      if (n > bytes_.size()) fail(fmt::format("the pickle ends early: {} of {} bytes", name, n));
      push(make_string(PickleKind::PICKLE_STRING, size_t(n), name));
      break;
    }
    case OP_SHORT_BINSTRING:
      push(make_string(PickleKind::PICKLE_STRING, take_uint(1, name), name));
      break;
    case OP_SHORT_BINBYTES:
      push(make_string(PickleKind::PICKLE_BYTES, take_uint(1, name), name));
      break;
    case OP_BINBYTES:
      push(make_string(PickleKind::PICKLE_BYTES, take_uint(4, name), name));
      break;
    case OP_EMPTY_DICT:
      push(make(PickleKind::PICKLE_DICT));
      break;
    case OP_EMPTY_LIST:
      push(make(PickleKind::PICKLE_LIST));
      break;
    case OP_EMPTY_TUPLE:
      new_tuple({});
      break;
    case OP_TUPLE:
      new_tuple(pop_mark(name));
      break;
    case OP_TUPLE1:
    case OP_TUPLE2:
    case OP_TUPLE3: {
      size_t n = size_t(op - OP_TUPLE1 + 1);
      std::vector<PickleValue*> items(n);
      for (size_t i = n; i-- > 0;) items[i] = pop(name);
      new_tuple(std::move(items));
      break;
    }
    case OP_LIST: {
      PickleValue* v = make(PickleKind::PICKLE_LIST);
      v->items = pop_mark(name);
      push(v);
      break;
    }
    case OP_DICT: {
      PickleValue* v = make(PickleKind::PICKLE_DICT);
      add_items(v, pop_mark(name), true);
      push(v);
      break;
    }
    case OP_APPEND: {
      PickleValue* item = pop(name);
      add_items(top(name), {item}, false);
      break;
    }
    case OP_APPENDS: {
      std::vector<PickleValue*> items = pop_mark(name);
      add_items(top(name), items, false);
      break;
    }
    case OP_SETITEM: {
      PickleValue* value = pop(name);
      PickleValue* key = pop(name);
      add_items(top(name), {key, value}, true);
      break;
    }
    case OP_SETITEMS: {
      std::vector<PickleValue*> items = pop_mark(name);
      add_items(top(name), items, true);
      break;
    }
    case OP_BINPUT:
      memo_put(take_uint(1, name), top(name));
      break;
    case OP_LONG_BINPUT:
      memo_put(take_uint(4, name), top(name));
      break;
    case OP_MEMOIZE: {
      PickleValue* v = top(name);
      memo_put(memo_.size(), v);
      break;
    }
    case OP_BINGET:
      memo_get(take_uint(1, name));
      break;
    case OP_LONG_BINGET:
      memo_get(take_uint(4, name));
      break;
    case OP_GLOBAL: {
      std::string module = read_line();
      std::string global = read_line();
      push(make_global(std::move(module), std::move(global)));
      break;
    }
    case OP_STACK_GLOBAL: {
      PickleValue* global = pop(name);
      PickleValue* module = pop(name);
      expect(module, PickleKind::PICKLE_STRING);
      expect(global, PickleKind::PICKLE_STRING);
      push(make_global(module->text, global->text));
      break;
    }
    case OP_BINPERSID: {
      PickleValue* pid = pop(name);
      if (!hooks_.persistent_load) fail("persistent ids are not allowed here");
      push(hooks_.persistent_load(*this, *pid));
      break;
    }
    case OP_REDUCE: {
      PickleValue* args = pop(name);
      PickleValue* callable = pop(name);
      expect(callable, PickleKind::PICKLE_GLOBAL);
      expect(args, PickleKind::PICKLE_TUPLE);
      if (!hooks_.reduce) fail(fmt::format("cannot call '{}' here", callable->text));
      push(hooks_.reduce(*this, *callable, *args));
      break;
    }
    case OP_BUILD: {
      // Sets an object's state (e.g. an OrderedDict's `_metadata`). No code runs, and nothing
      // here needs the state, so it is dropped.
      pop(name);
      top(name);
      break;
    }
    default:
      fail(fmt::format("unsupported pickle opcode {}", name));
  }
}

}  // namespace bert::io
