// The restricted unpickler on hand-written pickle bytes: values, memo, refusal of globals before
// anything is called, and every way a pickle can be malformed.
#include <doctest/doctest.h>

#include "io/io_test_support.hpp"
#include "io/pickle.hpp"

using namespace bert::io;
using namespace bert::io::test;
using namespace std::string_literals;

namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s += char(x);
  return s;
}

// Runs the unpickler with `allowed` globals; a REDUCE returns None and counts the call.
struct Run {
  PickleHooks hooks;
  int reduce_calls = 0;
  explicit Run(std::set<std::string, std::less<>> allowed = {}) {
    hooks.allowed_globals = std::move(allowed);
    hooks.reduce = [this](Unpickler& u, const PickleValue&, const PickleValue&) {
      ++reduce_calls;
      return u.make(PickleKind::PICKLE_NONE);
    };
  }
  std::string error(const std::string& pickle) {
    std::string msg = error_of([&] {
      Unpickler u(pickle, "data.pkl", hooks);
      u.load();
    });
    CHECK_CONTAINS(msg, "data.pkl: ");
    return msg;
  }
};

}  // namespace

TEST_CASE("values: dict of ints, floats, strings, bools, None, tuples, lists; memo") {
  // {'a': 1, 'b': (-2, 1.5, None), 'c': [True, False, b'xy'], 'big': -300000, 'l1': -129, 'a2': <memo 'a'>}
  std::string p =
      bytes({0x80, 0x02, '}', 'q', 0, '(', 0x8c, 1, 'a', 'q', 1, 'K', 1, 0x8c, 1, 'b', 'J'}) +
      bytes({0xfe, 0xff, 0xff, 0xff, 'G', 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 'N', 0x87, 0x8c, 1, 'c', ']'}) +
      bytes({'(',  0x88, 0x89, 'C', 2,   'x',  'y', 'e',  0x8c, 3,    'b', 'i', 'g', 'J', 0x20, 0x6c, 0xfb,
             0xff, 0x8c, 2,    'l', '1', 0x8a, 2,   0x7f, 0xff, 0x8c, 2,   'a', '2', 'h', 1,    'u',  '.'});
  Run run;
  Unpickler u(p, "data.pkl", run.hooks);
  const PickleValue* root = u.load();
  REQUIRE(root->kind == PickleKind::PICKLE_DICT);
  REQUIRE(root->items.size() == 12);
  CHECK(root->items[0]->text == "a");
  CHECK(root->items[1]->number == 1);
  const PickleValue* b = root->items[3];
  REQUIRE(b->kind == PickleKind::PICKLE_TUPLE);
  REQUIRE(b->items.size() == 3);
  CHECK(b->items[0]->number == -2);
  CHECK(b->items[1]->real == 1.5);
  CHECK(b->items[2]->kind == PickleKind::PICKLE_NONE);
  const PickleValue* c = root->items[5];
  REQUIRE(c->kind == PickleKind::PICKLE_LIST);
  REQUIRE(c->items.size() == 3);
  CHECK(c->items[0]->number == 1);
  CHECK(c->items[1]->number == 0);
  CHECK(c->items[2]->kind == PickleKind::PICKLE_BYTES);
  CHECK(c->items[2]->text == "xy");
  CHECK(root->items[7]->number == -300000);
  CHECK(root->items[9]->number == -129);     // LONG1 0x7f 0xff: little-endian two's complement
  CHECK(root->items[11] == root->items[0]);  // BINGET returns the same object
}

TEST_CASE("a list that contains itself loads (and does not leak)") {
  // l = []; l.append(l)
  std::string p = bytes({0x80, 0x02, ']', 'q', 0, 'h', 0, 'a', '.'});
  Run run;
  Unpickler u(p, "data.pkl", run.hooks);
  const PickleValue* root = u.load();
  REQUIRE(root->items.size() == 1);
  CHECK(root->items[0] == root);
}

TEST_CASE("an allowed global can be called; REDUCE runs only the hook") {
  std::string p =
      "\x80\x02"
      "ccollections\nOrderedDict\n)R."s;
  Run run({"collections.OrderedDict"});
  Unpickler u(p, "data.pkl", run.hooks);
  CHECK(u.load()->kind == PickleKind::PICKLE_NONE);
  CHECK(run.reduce_calls == 1);
}

TEST_CASE("a forbidden global is refused at GLOBAL, before REDUCE") {
  Run run({"collections.OrderedDict"});
  std::string msg = run.error(
      "\x80\x02"
      "cposix\nsystem\nX\x02\x00\x00\x00ls\x85R."s);
  CHECK(msg ==
        "data.pkl: refusing to load: the pickle asks for global 'posix.system' (only tensors are allowed; "
        "loading a checkpoint never runs code)");
  CHECK(run.reduce_calls == 0);
}

TEST_CASE("a forbidden global through STACK_GLOBAL (protocol 4) is refused too") {
  Run run({"collections.OrderedDict"});
  std::string msg = run.error(
      "\x80\x04\x8c\x08"
      "builtins\x8c\x04"
      "eval\x93\x8c\x01"
      "1\x85R."s);
  CHECK_CONTAINS(msg, "refusing to load: the pickle asks for global 'builtins.eval'");
  CHECK(run.reduce_calls == 0);
}

TEST_CASE("REDUCE of something that is not a global") {
  Run run;
  CHECK_CONTAINS(run.error("\x80\x02X\x01\x00\x00\x00s)R."s), "REDUCE expects a global but found a str");
  CHECK(run.reduce_calls == 0);
}

TEST_CASE("stack underflow") {
  Run run;
  CHECK_CONTAINS(run.error("\x80\x02\x86."s), "stack underflow: TUPLE2 needs a value and the stack is empty");
  // Values below a MARK are not reachable from above it.
  CHECK_CONTAINS(run.error("\x80\x02}NN(s."s), "stack underflow: SETITEM");
  CHECK_CONTAINS(run.error("\x80\x02N(\x85."s), "stack underflow: TUPLE1");
  CHECK_CONTAINS(run.error("\x80\x02t."s), "stack underflow: TUPLE needs a MARK");
}

TEST_CASE("the pickle ends early") {
  Run run;
  CHECK_CONTAINS(run.error("\x80\x02}"s), "the pickle ends early: no STOP opcode");
  CHECK_CONTAINS(run.error("\x80\x02X\xff\x00\x00\x00"
                           "abc"s),
                 "the pickle ends early: BINUNICODE needs 255 more bytes, 3 are left");
  CHECK_CONTAINS(run.error("\x80\x02J\x01\x02"s), "BININT needs 4 more bytes");
  CHECK_CONTAINS(run.error("\x80\x02"
                           "cposix"s),
                 "GLOBAL argument has no end of line");
  CHECK_CONTAINS(run.error(""s), "no STOP opcode");
}

TEST_CASE("deep nesting is refused") {
  Run run;
  std::string p = "\x80\x02" + std::string(5000, '(') + "N" + std::string(5000, 't') + ".";
  CHECK_CONTAINS(run.error(p), "nesting deeper than 1000 levels");
  // Nesting without MARKs (lists in lists) never recurses and loads fine.
  std::string lists = "\x80\x02]";
  for (int i = 0; i < 100000; ++i) lists += "]a";
  lists += ".";
  Unpickler u(lists, "data.pkl", run.hooks);
  CHECK(u.load()->items.size() == 100000);
}

TEST_CASE("bad memo index, unknown opcode, odd SETITEMS, extra values at STOP, wrong protocol") {
  Run run;
  CHECK_CONTAINS(run.error("\x80\x02h\x07."s), "BINGET of memo slot 7, which was never stored");
  CHECK_CONTAINS(run.error("\x80\x02"
                           "ios\nsystem\n."s),
                 "unsupported pickle opcode 0x69");
  CHECK_CONTAINS(run.error("\x80\x02}(K\x01u."s), "SETITEMS needs key/value pairs but got 1 values");
  CHECK_CONTAINS(run.error("\x80\x02NN."s), "STOP with 2 values on the stack");
  CHECK_CONTAINS(run.error("\x80\x09N."s), "pickle protocol 9 is not supported");
  CHECK_CONTAINS(run.error("\x80\x02N\x8a\x09"
                           "123456789."s),
                 "LONG1 of 9 bytes does not fit in 64 bits");
  CHECK_CONTAINS(run.error("\x80\x02KaKaK\x01s."s), "SETITEM expects a dict but found a int");
  CHECK_CONTAINS(run.error("\x80\x02NQ."s), "persistent ids are not allowed here");
}

TEST_CASE("values and memo entries are bounded by the pickle's size") {
  // 200,000 EMPTY_TUPLEs: 200 KB that would make 200,000 values (~20 MB); a real checkpoint's pickle
  // makes one value per ~6 bytes. A deflated data.pkl of 10^8 such opcodes took 8.9 GB.
  Run run;
  CHECK_CONTAINS(run.error("\x80\x02"s + std::string(200000, ')') + "."), "more than 101025 values from 200003 bytes");
  // One value memoized 200,000 times (MEMOIZE, 0x94).
  CHECK_CONTAINS(run.error("\x80\x02)"s + std::string(200000, '\x94') + "."),
                 "more than 101026 memo entries from 200004 bytes");
  // The same opcodes in the numbers a checkpoint has are fine.
  const std::string fine = "\x80\x02(" + std::string(1000, ')') + "t.";
  Unpickler u(fine, "data.pkl", run.hooks);
  CHECK(u.load()->items.size() == 1000);
}
