#include "text/wordpiece.hpp"

#include "text/utf8.hpp"  // utf8_is_continuation

namespace bert::text {

WordPiece::WordPiece(const Vocab& vocab, std::string_view prefix, int max_input_chars_per_word, int32_t unk_id)
    : max_chars_(max_input_chars_per_word), unk_id_(unk_id) {
  const auto& tokens = vocab.tokens();
  for (size_t id = 0; id < tokens.size(); ++id) {
    std::string_view t = tokens[id];
    if (t.size() > max_initial_) max_initial_ = t.size();
    if (t.size() >= prefix.size() && t.substr(0, prefix.size()) == prefix && (t.size() > prefix.size()))
      continuation_.insert(t.substr(prefix.size()), vocab.id_of(t));  // id_of: a duplicate's last id
  }
  max_continuation_ = continuation_.max_key_size();
}

void WordPiece::tokenize(const Vocab& vocab, std::string_view word, size_t chars, std::vector<SubWord>& out) const {
  const size_t n = word.size();
  if (n == 0) return;
  if (chars > size_t(max_chars_)) {
    out.push_back({unk_id_, 0, uint32_t(n)});
    return;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(word.data());
  const size_t mark = out.size();
  for (size_t start = 0; start < n;) {
    const bool initial = start == 0;
    const size_t limit = initial ? max_initial_ : max_continuation_;
    size_t end = n - start > limit ? start + limit : n;
    while (end > start && end < n && utf8_is_continuation(p[end])) --end;
    int32_t id = -1;
    while (end > start) {
      std::string_view piece = word.substr(start, end - start);
      id = initial ? vocab.id_of(piece) : continuation_.find(piece);
      if (id >= 0) break;
      do --end;
      while (end > start && utf8_is_continuation(p[end]));
    }
    if (id < 0) {  // some part matches nothing: the whole word is [UNK]
      out.resize(mark);
      out.push_back({unk_id_, 0, uint32_t(n)});
      return;
    }
    out.push_back({id, uint32_t(start), uint32_t(end)});
    start = end;
  }
}

}  // namespace bert::text
