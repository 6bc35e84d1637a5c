#include "text/vocab.hpp"

#include "core/error.hpp"  // fail_model
#include "core/file.hpp"   // read_file
#include "text/utf8.hpp"   // utf8_find_invalid

namespace bert::text {

Vocab::Vocab(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {
  for (size_t i = 0; i < tokens_.size(); ++i) ids_.insert(tokens_[i], int32_t(i));
}

Vocab Vocab::from_vocab_txt(const std::string& path) {
  std::string data = read_file(path);
  std::vector<std::string> tokens;
  size_t start = 0;
  while (start < data.size()) {
    size_t nl = data.find_first_of("\r\n", start);
    size_t end = nl == std::string::npos ? data.size() : nl;
    std::string_view line(data.data() + start, end - start);
    if (size_t bad = utf8_find_invalid(line); bad != std::string_view::npos)
      fail_model("{}:{}: invalid UTF-8 at byte {} (a vocabulary file is UTF-8 text, one token per line)", path,
                 tokens.size() + 1, bad);
    tokens.emplace_back(line);
    if (nl == std::string::npos) break;
    start = nl + ((data[nl] == '\r' && nl + 1 < data.size() && data[nl + 1] == '\n') ? 2 : 1);
  }
  if (tokens.empty()) fail_model("{}: empty vocabulary file", path);
  return Vocab(std::move(tokens));
}

std::optional<int32_t> Vocab::find(std::string_view token) const {
  int32_t id = ids_.find(token);
  if (id < 0) return std::nullopt;
  return id;
}

int32_t Vocab::add(std::string token) {
  int32_t id = int32_t(tokens_.size());
  ids_.insert(token, id);
  tokens_.push_back(std::move(token));
  return id;
}

}  // namespace bert::text
