#include "core/record.hpp"

#include <fmt/format.h>

#include "core/output.hpp"  // append_json_string, append_float

namespace bert {

namespace {

void append_json_object(std::string& out, const Record& r);

void append_json_list(std::string& out, const Record::List& list) {
  out += '[';
  for (size_t i = 0; i < list.size(); ++i) {
    if (i) out += ',';
    append_json_object(out, list[i]);
  }
  out += ']';
}

void append_json_value(std::string& out, const Record::Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) {
    append_json_string(out, *s);
  } else if (const auto* f = std::get_if<float>(&v)) {
    append_float(out, *f);
  } else if (const auto* i = std::get_if<int64_t>(&v)) {
    fmt::format_to(std::back_inserter(out), "{}", *i);
  } else if (const auto* fs = std::get_if<std::vector<float>>(&v)) {
    out += '[';
    for (size_t k = 0; k < fs->size(); ++k) {
      if (k) out += ',';
      append_float(out, (*fs)[k]);
    }
    out += ']';
  } else if (const auto* ss = std::get_if<std::vector<std::string>>(&v)) {
    out += '[';
    for (size_t k = 0; k < ss->size(); ++k) {
      if (k) out += ',';
      append_json_string(out, (*ss)[k]);
    }
    out += ']';
  } else if (const auto* list = std::get_if<Record::List>(&v)) {
    append_json_list(out, *list);
  } else {
    append_json_object(out, *std::get<std::shared_ptr<const Record>>(v));
  }
}

void append_json_object(std::string& out, const Record& r) {
  out += '{';
  for (size_t i = 0; i < r.fields().size(); ++i) {
    if (i) out += ',';
    append_json_string(out, r.fields()[i].key);
    out += ':';
    append_json_value(out, r.fields()[i].value);
  }
  out += '}';
}

// A string as one TSV cell: tabs and line breaks would split the record.
void append_cell(std::string& out, std::string_view s) {
  for (char c : s) out += c == '\t' || c == '\n' || c == '\r' ? ' ' : c;
}

void append_tsv_value(std::string& out, const Record::Value& v, bool& first) {
  auto sep = [&] {
    if (!first) out += '\t';
    first = false;
  };
  if (const auto* s = std::get_if<std::string>(&v)) {
    sep();
    append_cell(out, *s);
  } else if (const auto* f = std::get_if<float>(&v)) {
    sep();
    append_float(out, *f);
  } else if (const auto* i = std::get_if<int64_t>(&v)) {
    sep();
    fmt::format_to(std::back_inserter(out), "{}", *i);
  } else if (const auto* fs = std::get_if<std::vector<float>>(&v)) {
    for (float x : *fs) {
      sep();
      append_float(out, x);
    }
  } else if (const auto* ss = std::get_if<std::vector<std::string>>(&v)) {
    for (const std::string& x : *ss) {
      sep();
      append_cell(out, x);
    }
  } else if (const auto* list = std::get_if<Record::List>(&v)) {
    for (const Record& r : *list)
      for (const auto& f : r.fields()) append_tsv_value(out, f.value, first);
  } else {
    for (const auto& f : std::get<std::shared_ptr<const Record>>(v)->fields()) append_tsv_value(out, f.value, first);
  }
}

}  // namespace

void append_jsonl(std::string& out, const Record& r) {
  append_json_object(out, r);
  out += '\n';
}

void append_jsonl(std::string& out, const Record::List& list) {
  append_json_list(out, list);
  out += '\n';
}

void append_tsv(std::string& out, const Record& r) {
  bool first = true;
  for (const auto& f : r.fields()) append_tsv_value(out, f.value, first);
  out += '\n';
}

void append_conll(std::string& out, std::span<const std::pair<std::string, std::string>> rows) {
  for (const auto& [token, tag] : rows) {
    append_cell(out, token);
    out += '\t';
    append_cell(out, tag);
    out += '\n';
  }
  out += '\n';
}

}  // namespace bert
