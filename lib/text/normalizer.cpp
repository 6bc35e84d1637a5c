#include "text/normalizer.hpp"

#include "text/unicode.hpp"  // properties, decompose, compose
#include "text/utf8.hpp"     // utf8_next

namespace bert::text {

namespace {

// Steps 1-3: lower-case, clean, mark word breaks.
void clean(std::string_view text, uint32_t offset, const NormalizerOptions& opt, std::vector<NormChar>& out) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char* end = p + text.size();
  for (size_t i = 0; i < text.size();) {
    Utf8Char u = utf8_next(p + i, end);  // an ill-formed byte reads as U+FFFD, which cleaning drops
    uint32_t b = offset + uint32_t(i), e = b + u.size;
    i += u.size;
    char32_t cps[2] = {u.cp, 0};
    size_t n = opt.lowercase ? unicode::to_lower(u.cp, cps) : 1;
    for (size_t k = 0; k < n; ++k) {
      char32_t c = cps[k];
      if (opt.clean_text && (c == 0 || c == kReplacementChar || unicode::is_control(c))) continue;
      if (unicode::is_whitespace(c) || unicode::is_line_separator(c)) {
        out.push_back({kWordBreak, b, e});
      } else if (opt.handle_chinese_chars && unicode::is_cjk(c)) {
        out.push_back({kWordBreak, b, b});
        out.push_back({c, b, e});
        out.push_back({kWordBreak, e, e});
      } else {
        out.push_back({c, b, e});
      }
    }
  }
}

// Canonical ordering of the non-starters just appended at out[from..]: a stable insertion sort by
// combining class, as NFD requires.
void reorder_tail(std::vector<NormChar>& out, size_t from) {
  for (size_t i = from; i < out.size(); ++i) {
    int ccc = unicode::combining_class(out[i].cp);
    if (ccc == 0) continue;
    for (size_t j = i; j > 0; --j) {
      int prev = unicode::combining_class(out[j - 1].cp);
      if (prev <= ccc || prev == 0) break;
      std::swap(out[j - 1], out[j]);
    }
  }
}

// Step 5 with accents stripped: NFD, drop Mn.
void decompose_strip(const std::vector<NormChar>& in, std::vector<NormChar>& out) {
  char32_t d[unicode::kMaxDecomposition];
  for (const NormChar& c : in) {
    if (c.cp < 0x80) {
      out.push_back(c);
      continue;
    }
    size_t from = out.size();
    size_t n = unicode::decompose(c.cp, d);
    for (size_t k = 0; k < n; ++k)
      if (!unicode::is_nonspacing_mark(d[k])) out.push_back({d[k], c.begin, c.end});
    reorder_tail(out, from > 0 ? from - 1 : 0);
  }
}

// Step 4's NFC (and step 5's lower-casing when accents are kept), one NFC-independent run at a time.
void compose_runs(const std::vector<NormChar>& in, bool lowercase, std::vector<NormChar>& out) {
  std::vector<char32_t> buf;
  char32_t d[unicode::kMaxDecomposition];
  for (size_t i = 0; i < in.size();) {
    size_t j = i + 1;
    while (j < in.size() && !unicode::nfc_boundary_before(in[j].cp)) ++j;
    size_t from = out.size();
    if (j == i + 1 && (in[i].cp < 0xC0 || (unicode::decompose(in[i].cp, d) == 1 && d[0] == in[i].cp))) {
      out.push_back(in[i]);  // a lone character that NFC leaves alone
    } else {
      buf.clear();
      for (size_t k = i; k < j; ++k) {
        size_t n = unicode::decompose(in[k].cp, d);
        buf.insert(buf.end(), d, d + n);
      }
      // Canonical order (stable insertion sort of non-starters), then compose.
      for (size_t a = 1; a < buf.size(); ++a) {
        int ccc = unicode::combining_class(buf[a]);
        if (ccc == 0) continue;
        for (size_t b = a; b > 0; --b) {
          int prev = unicode::combining_class(buf[b - 1]);
          if (prev <= ccc || prev == 0) break;
          std::swap(buf[b - 1], buf[b]);
        }
      }
      buf.resize(unicode::compose(buf.data(), buf.size()));
      bool unchanged = buf.size() == j - i;
      for (size_t k = 0; unchanged && k < buf.size(); ++k) unchanged = buf[k] == in[i + k].cp;
      if (unchanged) {
        out.insert(out.end(), in.begin() + long(i), in.begin() + long(j));
      } else {
        for (char32_t c : buf) out.push_back({c, in[i].begin, in[j - 1].end});
      }
    }
    if (lowercase) {
      for (size_t k = from; k < out.size(); ++k) {
        char32_t low[2];
        unicode::to_lower(out[k].cp, low);  // after step 1 this only meets lower-case text
        out[k].cp = low[0];
      }
    }
    i = j;
  }
}

}  // namespace

void normalize(std::string_view text, uint32_t offset, const NormalizerOptions& options,
               std::vector<NormChar>& out, std::vector<NormChar>& tmp) {
  tmp.clear();
  clean(text, offset, options, tmp);
  if (options.strip_accents)
    decompose_strip(tmp, out);
  else
    compose_runs(tmp, options.lowercase, out);
}

}  // namespace bert::text
