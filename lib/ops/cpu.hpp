// The one place that knows the CPU: its instruction sets, read once with cpuid (and the OS's xgetbv,
// which says whether the kernel saves the wide registers), and the cap that BERTCTL_MAX_ISA (or
// oneDNN's own ONEDNN_MAX_CPU_ISA) puts on them, so an AVX-512 machine can prove the AVX2 answers.
// Our own intrinsics dispatch on cpu().use; lib/ops/onednn/ hands the same cap to oneDNN before
// its first primitive.
//
//   if (bert::ops::cpu().use.avx2) quantize_avx2(...); else quantize_scalar(...);
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace bert::ops {

// Instruction-set levels, each including the ones before it (oneDNN's order).
enum class IsaLevel { ISA_SSE41, ISA_AVX2, ISA_AVX512, ISA_AVX512_VNNI, ISA_AVX512_BF16, ISA_AMX, ISA_ALL };

struct CpuFeatures {
  bool avx2 = false;         // AVX2 + FMA
  bool avx512 = false;       // AVX-512 F, BW, VL, DQ (oneDNN's avx512_core)
  bool avx512_vnni = false;  // 8-bit dot products in one instruction (vpdpbusd)
  bool avx512_bf16 = false;  // bfloat16 dot products
  bool amx = false;          // AMX tiles with int8 and bf16
  bool avx_vnni = false;     // VNNI on 256-bit registers without AVX-512 (shown, not used)
};

struct Cpu {
  std::string name;   // the brand string
  CpuFeatures has;    // what the CPU and OS offer
  CpuFeatures use;    // what bertctl and oneDNN may use: `has` under the cap
  std::optional<IsaLevel> cap;
  std::string cap_source;  // the variable the cap came from: "BERTCTL_MAX_ISA" or "ONEDNN_MAX_CPU_ISA"
};

// Detected once. Throws a usage error when BERTCTL_MAX_ISA names no level.
const Cpu& cpu();

// "avx2", "avx512", ... (the names BERTCTL_MAX_ISA takes), and back; parse_isa_level also takes
// oneDNN's names (AVX512_CORE_VNNI, ...), any case. nullopt: not a level.
const char* isa_level_name(IsaLevel level);
std::optional<IsaLevel> parse_isa_level(std::string_view name);
// The accepted BERTCTL_MAX_ISA values, for messages: "sse41, avx2, ...".
std::string isa_level_names();

// The features of `has` allowed under `cap` (nullopt: no cap).
CpuFeatures apply_cap(const CpuFeatures& has, std::optional<IsaLevel> cap);
// The highest level whose features `f` all has.
IsaLevel highest_level(const CpuFeatures& f);

}  // namespace bert::ops
