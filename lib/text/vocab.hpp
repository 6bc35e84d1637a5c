// Vocab: the WordPiece vocabulary, id = position. Lookups by string_view never allocate.
//
//   Vocab v = Vocab::from_vocab_txt("vocab.txt");   // HF vocab.txt: one token per line
//   v.id_of("paris") == 3000;   v.find("nosuchtoken") == std::nullopt;   v.token(101) == "[CLS]"
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text/string_map.hpp"  // StringIdMap

namespace bert::text {

class Vocab {
 public:
  Vocab() = default;
  explicit Vocab(std::vector<std::string> tokens);  // id = position
  // One token per line. Lines end in \n, \r\n or \r (Python's universal newlines, as HF's
  // load_vocab reads the file); a token that appears twice maps to its last id, as HF's dict does.
  // Throws bert::Error (ERROR_MODEL) naming the file and line for invalid UTF-8.
  static Vocab from_vocab_txt(const std::string& path);

  size_t size() const { return tokens_.size(); }
  const std::string& token(int32_t id) const { return tokens_.at(size_t(id)); }
  std::optional<int32_t> find(std::string_view token) const;
  int32_t id_of(std::string_view token) const { return ids_.find(token); }  // -1 when absent
  const std::vector<std::string>& tokens() const { return tokens_; }

  // Appends a token (HF add_tokens for a token not in the vocabulary); returns its id.
  int32_t add(std::string token);

 private:
  std::vector<std::string> tokens_;
  StringIdMap ids_;
};

}  // namespace bert::text
