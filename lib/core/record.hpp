// Output records: what a command says about one input line, as named fields, written by one writer
// per format instead of strings assembled in each command. JSONL gives an object per line (or a
// list, for commands whose answer per line is a list); TSV gives the field values in order,
// tab-separated, lists spread over columns; CoNLL gives `token<TAB>tag` lines and a blank line.
//
//   bert::Record r;
//   r.add("label", "positive").add("score", 0.97f);
//   bert::append_jsonl(line, r);     // {"label":"positive","score":0.97}\n
//   bert::append_tsv(line, r);       // positive<TAB>0.97\n
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace bert {

class Record {
 public:
  using List = std::vector<Record>;
  using Value = std::variant<std::string, float, int64_t, std::vector<float>, std::vector<std::string>, List,
                             std::shared_ptr<const Record>>;
  struct Field {
    std::string key;
    Value value;
  };

  Record& add(std::string_view key, std::string_view v) { return put(key, std::string(v)); }
  Record& add(std::string_view key, const char* v) { return put(key, std::string(v)); }
  Record& add(std::string_view key, float v) { return put(key, v); }
  Record& add(std::string_view key, int64_t v) { return put(key, v); }
  Record& add(std::string_view key, int v) { return put(key, int64_t(v)); }
  Record& add(std::string_view key, uint32_t v) { return put(key, int64_t(v)); }
  Record& add(std::string_view key, std::span<const float> v) { return put(key, std::vector<float>(v.begin(), v.end())); }
  Record& add(std::string_view key, std::vector<std::string> v) { return put(key, std::move(v)); }
  Record& add(std::string_view key, List v) { return put(key, std::move(v)); }
  Record& add(std::string_view key, Record v) { return put(key, std::make_shared<const Record>(std::move(v))); }
  Record& add_value(std::string_view key, Value v) { return put(key, std::move(v)); }

  const std::vector<Field>& fields() const { return fields_; }
  bool empty() const { return fields_.empty(); }
  void clear() { fields_.clear(); }

 private:
  Record& put(std::string_view key, Value v) {
    fields_.push_back({std::string(key), std::move(v)});
    return *this;
  }
  std::vector<Field> fields_;
};

// {"key":value,...}\n — floats as the shortest text that reads back as the same float.
void append_jsonl(std::string& out, const Record& r);
// [{...},{...}]\n
void append_jsonl(std::string& out, const Record::List& list);
// The values in order, tab-separated (lists: one column per element; strings lose tabs and
// newlines to spaces, so a record stays one line)\n.
void append_tsv(std::string& out, const Record& r);
// token<TAB>tag per pair, then a blank line (CoNLL: one sentence per block).
void append_conll(std::string& out, std::span<const std::pair<std::string, std::string>> rows);

}  // namespace bert
