#include "ops/cpu.hpp"

#include <cpuid.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/error.hpp"  // fail_usage

namespace bert::ops {

namespace {

struct Regs {
  uint32_t a = 0, b = 0, c = 0, d = 0;
};
Regs cpuid(uint32_t leaf, uint32_t sub = 0) {
  Regs r;
  if (!__get_cpuid_count(leaf, sub, &r.a, &r.b, &r.c, &r.d)) r = Regs{};
  return r;
}
bool bit(uint32_t reg, int n) { return (reg >> n) & 1u; }

// Which register states the OS saves on a context switch (XCR0): without them the instructions fault.
uint64_t os_saved_state() {
  uint32_t lo = 0, hi = 0;
  __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}

CpuFeatures detect() {
  CpuFeatures f;
  const Regs l1 = cpuid(1);
  if (!bit(l1.c, 27) || !bit(l1.c, 28)) return f;  // no OSXSAVE or no AVX: SSE only
  const uint64_t xcr0 = os_saved_state();
  const bool ymm = (xcr0 & 0x6) == 0x6, zmm = ymm && (xcr0 & 0xe0) == 0xe0, tiles = (xcr0 & 0x60000) == 0x60000;
  const Regs l7 = cpuid(7), l7s1 = cpuid(7, 1);
  f.avx2 = ymm && bit(l7.b, 5) && bit(l1.c, 12);
  f.avx_vnni = f.avx2 && bit(l7s1.a, 4);
  f.avx512 = zmm && f.avx2 && bit(l7.b, 16) && bit(l7.b, 17) && bit(l7.b, 30) && bit(l7.b, 31);
  f.avx512_vnni = f.avx512 && bit(l7.c, 11);
  f.avx512_bf16 = f.avx512_vnni && bit(l7s1.a, 5);
  f.amx = tiles && f.avx512_bf16 && bit(l7.d, 22) && bit(l7.d, 24) && bit(l7.d, 25);
  return f;
}

std::string brand() {
  char s[49] = {};
  if (cpuid(0x80000000).a < 0x80000004) return "unknown x86-64";
  for (uint32_t i = 0; i < 3; ++i) {
    const Regs r = cpuid(0x80000002 + i);
    std::memcpy(s + 16 * i, &r, 16);
  }
  std::string name(s);
  name.erase(0, name.find_first_not_of(' '));
  name.erase(name.find_last_not_of(' ') + 1);
  return name.empty() ? "unknown x86-64" : name;
}

struct LevelName {
  const char* name;
  IsaLevel level;
};
// Ours first (what BERTCTL_MAX_ISA documents), then oneDNN's spellings of ONEDNN_MAX_CPU_ISA. Levels
// oneDNN has between ours map down: AVX (no AVX2) to sse41, AVX2_VNNI and the Xeon Phi ones to avx2.
constexpr LevelName kLevels[] = {
    {"sse41", IsaLevel::ISA_SSE41},           {"avx2", IsaLevel::ISA_AVX2},
    {"avx512", IsaLevel::ISA_AVX512},         {"avx512_vnni", IsaLevel::ISA_AVX512_VNNI},
    {"avx512_bf16", IsaLevel::ISA_AVX512_BF16}, {"amx", IsaLevel::ISA_AMX},
    {"all", IsaLevel::ISA_ALL},               {"avx", IsaLevel::ISA_SSE41},
    {"avx2_vnni", IsaLevel::ISA_AVX2},        {"avx512_mic", IsaLevel::ISA_AVX2},
    {"avx512_mic_4ops", IsaLevel::ISA_AVX2},  {"avx512_core", IsaLevel::ISA_AVX512},
    {"avx512_core_vnni", IsaLevel::ISA_AVX512_VNNI}, {"avx512_core_bf16", IsaLevel::ISA_AVX512_BF16},
    {"avx512_core_amx", IsaLevel::ISA_AMX},
};
constexpr int kOurLevels = 7;

}  // namespace

const char* isa_level_name(IsaLevel level) {
  for (int i = 0; i < kOurLevels; ++i)
    if (kLevels[i].level == level) return kLevels[i].name;
  return "?";
}

std::optional<IsaLevel> parse_isa_level(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  for (const LevelName& l : kLevels)
    if (lower == l.name) return l.level;
  return std::nullopt;
}

std::string isa_level_names() {
  std::string s;
  for (int i = 0; i < kOurLevels; ++i) s += (i ? ", " : "") + std::string(kLevels[i].name);
  return s;
}

CpuFeatures apply_cap(const CpuFeatures& has, std::optional<IsaLevel> cap) {
  if (!cap) return has;
  auto allowed = [&](IsaLevel needs) { return *cap >= needs; };
  CpuFeatures f = has;
  f.avx2 = has.avx2 && allowed(IsaLevel::ISA_AVX2);
  f.avx_vnni = has.avx_vnni && allowed(IsaLevel::ISA_AVX2) && *cap == IsaLevel::ISA_ALL;
  f.avx512 = has.avx512 && allowed(IsaLevel::ISA_AVX512);
  f.avx512_vnni = has.avx512_vnni && allowed(IsaLevel::ISA_AVX512_VNNI);
  f.avx512_bf16 = has.avx512_bf16 && allowed(IsaLevel::ISA_AVX512_BF16);
  f.amx = has.amx && allowed(IsaLevel::ISA_AMX);
  return f;
}

IsaLevel highest_level(const CpuFeatures& f) {
  if (f.amx) return IsaLevel::ISA_AMX;
  if (f.avx512_bf16) return IsaLevel::ISA_AVX512_BF16;
  if (f.avx512_vnni) return IsaLevel::ISA_AVX512_VNNI;
  if (f.avx512) return IsaLevel::ISA_AVX512;
  if (f.avx2) return IsaLevel::ISA_AVX2;
  return IsaLevel::ISA_SSE41;
}

const Cpu& cpu() {
  static const Cpu c = [] {
    Cpu c;
    c.name = brand();
    c.has = detect();
    // BERTCTL_MAX_ISA wins (and is handed to oneDNN); otherwise our code follows oneDNN's own cap, so
    // the two never run different instruction sets.
    if (const char* ours = std::getenv("BERTCTL_MAX_ISA"); ours && *ours) {
      c.cap = parse_isa_level(ours);
      if (!c.cap) fail_usage("BERTCTL_MAX_ISA={}: not an instruction-set level (one of: {})", ours, isa_level_names());
      c.cap_source = "BERTCTL_MAX_ISA";
    } else if (const char* theirs = std::getenv("ONEDNN_MAX_CPU_ISA"); theirs && *theirs) {
      c.cap = parse_isa_level(theirs);  // oneDNN ignores a value it does not know; so do we
      if (c.cap) c.cap_source = "ONEDNN_MAX_CPU_ISA";
    }
    c.use = apply_cap(c.has, c.cap);
    return c;
  }();
  return c;
}

}  // namespace bert::ops
