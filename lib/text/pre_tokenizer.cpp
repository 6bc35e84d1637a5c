#include "text/pre_tokenizer.hpp"

#include <algorithm>
#include <cstring>  // memchr, memcmp

#include "text/unicode.hpp"  // is_punctuation
#include "text/utf8.hpp"     // utf8_append

namespace bert::text {

namespace {

// ASCII byte classes of the fast path. OTHER (control characters and every byte >= 0x80) sends the
// whole whitespace-delimited span to the Unicode path.
enum : uint8_t { CLASS_WORD, CLASS_SPACE, CLASS_PUNCT, CLASS_OTHER };

constexpr std::array<uint8_t, 256> make_classes() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    if (c >= 0x80 || c < 0x20 || c == 0x7F)
      t[c] = CLASS_OTHER;
    else if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126))
      t[c] = CLASS_PUNCT;  // BERT counts all ASCII symbols as punctuation, not only category P
    else
      t[c] = CLASS_WORD;
  }
  t[' '] = t['\t'] = t['\n'] = t['\r'] = CLASS_SPACE;
  return t;
}
constexpr std::array<uint8_t, 256> kClass = make_classes();

inline char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c + 32) : c; }

bool has_ascii_upper(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

void push_ascii_word(Words& out, const char* s, size_t b, size_t e, bool lower) {
  uint32_t at = uint32_t(out.text.size());
  out.text.append(s + b, e - b);
  if (lower)
    for (char* p = out.text.data() + at; p < out.text.data() + out.text.size(); ++p) *p = ascii_lower(*p);
  out.words.push_back(
      Word{at, uint32_t(out.text.size()), uint32_t(b), uint32_t(e), Word::kIdentity, uint32_t(e - b), -1});
}

void push_kept_word(Words& out, std::string_view text, size_t src_b, size_t src_e, uint32_t chars, int32_t id) {
  uint32_t at = uint32_t(out.text.size());
  out.text.append(text);
  out.words.push_back(Word{at, uint32_t(out.text.size()), uint32_t(src_b), uint32_t(src_e), Word::kIdentity,
                           chars, id});
}

// A word of normalized characters, with the source span of every byte.
void push_unicode_word(Words& out, const NormChar* c, size_t n) {
  uint32_t at = uint32_t(out.text.size());
  uint32_t map = uint32_t(out.src_begins.size());
  for (size_t k = 0; k < n; ++k) {
    size_t before = out.text.size();
    utf8_append(out.text, c[k].cp);
    for (size_t m = before; m < out.text.size(); ++m) {
      out.src_begins.push_back(c[k].begin);
      out.src_ends.push_back(c[k].end);
    }
  }
  out.words.push_back(Word{at, uint32_t(out.text.size()), c[0].begin, c[n - 1].end, map, uint32_t(n), -1});
}

}  // namespace

PreTokenizer::PreTokenizer(NormalizerOptions options, std::vector<Token> added,
                           const std::vector<Token>& never_split)
    : options_(options) {
  for (Token& t : added) {
    if (t.text.empty()) continue;
    // PreTrainedTokenizer.tokenize lower-cases the text of an uncased model (except the special
    // tokens themselves) *before* looking for added tokens, so a token without upper case letters
    // also matches upper-case input there ("<E1>" finds "<e1>"). Only ASCII case is folded here.
    bool fold = options.lowercase && !has_ascii_upper(t.text);
    never_split_.insert(t.text, t.id);
    added_.push_back(Added{std::move(t.text), t.id, fold});
  }
  std::stable_sort(added_.begin(), added_.end(),
                   [](const Added& a, const Added& b) { return a.text.size() > b.text.size(); });
  for (const Added& a : added_) {
    unsigned char c = static_cast<unsigned char>(a.text[0]);
    first_byte_[c] = true;
    if (a.fold && c >= 'a' && c <= 'z') first_byte_[c - 32] = true;
  }
  int distinct = 0;
  for (int c = 0; c < 256; ++c)
    if (first_byte_[c]) ++distinct, only_first_byte_ = c;
  if (distinct != 1) only_first_byte_ = -1;

  for (const Token& t : never_split) {
    if (t.text.empty()) continue;
    never_split_.insert(t.text, t.id);
    ascii_never_split_ = true;
  }
  never_split_max_ = never_split_.max_key_size();
}

size_t PreTokenizer::find_candidate(std::string_view text, size_t from) const {
  if (added_.empty() || from >= text.size()) return std::string_view::npos;
  if (only_first_byte_ >= 0) {
    const void* p = std::memchr(text.data() + from, only_first_byte_, text.size() - from);
    return p ? size_t(static_cast<const char*>(p) - text.data()) : std::string_view::npos;
  }
  for (size_t i = from; i < text.size(); ++i)
    if (first_byte_[static_cast<unsigned char>(text[i])]) return i;
  return std::string_view::npos;
}

const PreTokenizer::Added* PreTokenizer::match_added(std::string_view text, size_t pos) const {
  std::string_view rest = text.substr(pos);
  for (const Added& a : added_) {  // longest first
    if (a.text.size() > rest.size()) continue;
    bool same = std::memcmp(rest.data(), a.text.data(), a.text.size()) == 0;
    if (!same && a.fold) {
      same = true;
      for (size_t k = 0; same && k < a.text.size(); ++k) same = ascii_lower(rest[k]) == a.text[k];
    }
    if (same) return &a;
  }
  return nullptr;
}

void PreTokenizer::split(std::string_view text, Words& out) const {
  size_t segment = 0;
  for (size_t pos = find_candidate(text, 0); pos != std::string_view::npos; pos = find_candidate(text, pos)) {
    const Added* added = match_added(text, pos);
    if (!added) {
      ++pos;
      continue;
    }
    split_segment(text, segment, pos, out);
    const size_t len = added->text.size();
    push_kept_word(out, added->text, pos, pos + len, uint32_t(utf8_count(added->text)), added->id);
    segment = pos = pos + len;
  }
  split_segment(text, segment, text.size(), out);
}

// The ASCII fast path over text[b, e), which holds no added token.
void PreTokenizer::split_segment(std::string_view text, size_t b, size_t e, Words& out) const {
  const char* s = text.data();
  const bool lower = options_.lowercase;
  size_t span = b;                    // start of the current whitespace-delimited span
  size_t words_at_span = out.words.size(), text_at_span = out.text.size();
  size_t i = b;
  while (i < e) {
    uint8_t cls = kClass[static_cast<unsigned char>(s[i])];
    if (cls == CLASS_SPACE) {
      span = ++i;
      words_at_span = out.words.size();
      text_at_span = out.text.size();
      continue;
    }
    if (i == span && ascii_never_split_ && keep_whole_ascii(text, i, e, out)) {
      while (i < e && kClass[static_cast<unsigned char>(s[i])] != CLASS_SPACE) ++i;
      continue;
    }
    if (cls == CLASS_WORD) {
      size_t j = i + 1;
      while (j < e && kClass[static_cast<unsigned char>(s[j])] == CLASS_WORD) ++j;
      if (j == e || kClass[static_cast<unsigned char>(s[j])] != CLASS_OTHER) {
        push_ascii_word(out, s, i, j, lower);
        i = j;
        continue;
      }
      i = j;  // the word runs into a non-ASCII or control byte
    } else if (cls == CLASS_PUNCT) {
      // A combining mark after ASCII punctuation can compose with it ("<" + U+0338), so punctuation
      // followed by such a byte goes to the Unicode path with its span.
      if (i + 1 == e || kClass[static_cast<unsigned char>(s[i + 1])] != CLASS_OTHER) {
        push_ascii_word(out, s, i, i + 1, false);
        ++i;
        continue;
      }
    }
    // CLASS_OTHER: redo the whole span through normalize().
    size_t end = i;
    while (end < e && kClass[static_cast<unsigned char>(s[end])] != CLASS_SPACE) ++end;
    out.words.resize(words_at_span);
    out.text.resize(text_at_span);
    split_unicode(text, span, end, out);
    i = end;
    words_at_span = out.words.size();
    text_at_span = out.text.size();
  }
}

// A span starting at b that equals a configured never_split word (after lower-casing) is one word.
bool PreTokenizer::keep_whole_ascii(std::string_view text, size_t b, size_t e, Words& out) const {
  size_t end = b;
  while (end < e && kClass[static_cast<unsigned char>(text[end])] != CLASS_SPACE) {
    if (kClass[static_cast<unsigned char>(text[end])] == CLASS_OTHER) return false;  // Unicode path decides
    if (end - b >= never_split_max_) return false;
    ++end;
  }
  std::string& w = out.scratch;
  w.assign(text.substr(b, end - b));
  if (options_.lowercase)
    for (char& c : w) c = ascii_lower(c);
  int32_t id = never_split_.find(w);
  if (id < 0) return false;
  push_kept_word(out, w, b, end, uint32_t(end - b), id);
  return true;
}

// The Unicode path for one whitespace-delimited span text[b, e).
void PreTokenizer::split_unicode(std::string_view text, size_t b, size_t e, Words& out) const {
  std::vector<NormChar>& chars = out.chars;
  chars.clear();
  normalize(text.substr(b, e - b), uint32_t(b), options_, chars, out.tmp);
  const size_t n = chars.size();
  for (size_t i = 0; i < n;) {
    if (chars[i].cp == kWordBreak) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < n && chars[j].cp != kWordBreak) ++j;
    // [i, j) is one whitespace-delimited word of the reference; never_split words stay whole.
    if (never_split_.size() > 0 && j - i <= never_split_max_) {
      std::string& w = out.scratch;
      w.clear();
      for (size_t k = i; k < j; ++k) utf8_append(w, chars[k].cp);
      if (int32_t id = never_split_.find(w); id >= 0) {
        push_kept_word(out, w, chars[i].begin, chars[j - 1].end, uint32_t(j - i), id);
        i = j;
        continue;
      }
    }
    size_t start = i;
    for (size_t k = i; k < j; ++k) {
      if (!unicode::is_punctuation(chars[k].cp)) continue;
      if (start < k) push_unicode_word(out, &chars[start], k - start);
      push_unicode_word(out, &chars[k], 1);
      start = k + 1;
    }
    if (start < j) push_unicode_word(out, &chars[start], j - start);
    i = j;
  }
}

}  // namespace bert::text
