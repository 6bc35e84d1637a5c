// The instruction-set cap: names, what a cap allows, and that the detected CPU obeys it.
#include <doctest/doctest.h>

#include <cstdlib>

#include "ops/cpu.hpp"

using bert::ops::CpuFeatures;
using bert::ops::IsaLevel;

namespace {

CpuFeatures everything() {
  CpuFeatures f;
  f.avx2 = f.avx512 = f.avx512_vnni = f.avx512_bf16 = f.amx = f.avx_vnni = true;
  return f;
}

}  // namespace

TEST_CASE("levels parse from our names and oneDNN's, in any case, and print back") {
  for (IsaLevel l : {IsaLevel::ISA_SSE41, IsaLevel::ISA_AVX2, IsaLevel::ISA_AVX512, IsaLevel::ISA_AVX512_VNNI,
                     IsaLevel::ISA_AVX512_BF16, IsaLevel::ISA_AMX, IsaLevel::ISA_ALL})
    CHECK(bert::ops::parse_isa_level(bert::ops::isa_level_name(l)) == l);
  CHECK(bert::ops::parse_isa_level("AVX512_CORE_VNNI") == IsaLevel::ISA_AVX512_VNNI);
  CHECK(bert::ops::parse_isa_level("Avx2") == IsaLevel::ISA_AVX2);
  CHECK(bert::ops::parse_isa_level("avx2_vnni") == IsaLevel::ISA_AVX2);
  CHECK(bert::ops::parse_isa_level("avx512_core_amx") == IsaLevel::ISA_AMX);
  CHECK_FALSE(bert::ops::parse_isa_level("avx3").has_value());
  CHECK_FALSE(bert::ops::parse_isa_level("").has_value());
  CHECK(bert::ops::isa_level_names() == "sse41, avx2, avx512, avx512_vnni, avx512_bf16, amx, all");
}

TEST_CASE("a cap keeps the features of its level and below, and never adds one") {
  const CpuFeatures all = everything();
  CpuFeatures f = bert::ops::apply_cap(all, IsaLevel::ISA_AVX2);
  CHECK(f.avx2);
  CHECK_FALSE(f.avx512);
  CHECK_FALSE(f.avx512_vnni);
  CHECK_FALSE(f.avx_vnni);
  f = bert::ops::apply_cap(all, IsaLevel::ISA_AVX512);
  CHECK((f.avx2 && f.avx512 && !f.avx512_vnni && !f.avx512_bf16 && !f.amx));
  f = bert::ops::apply_cap(all, IsaLevel::ISA_AVX512_VNNI);
  CHECK((f.avx512_vnni && !f.avx512_bf16 && !f.amx));
  CHECK(bert::ops::highest_level(bert::ops::apply_cap(all, IsaLevel::ISA_AVX512_BF16)) == IsaLevel::ISA_AVX512_BF16);
  CHECK(bert::ops::highest_level(bert::ops::apply_cap(all, IsaLevel::ISA_SSE41)) == IsaLevel::ISA_SSE41);
  CHECK(bert::ops::highest_level(bert::ops::apply_cap(all, std::nullopt)) == IsaLevel::ISA_AMX);
  CpuFeatures avx2_only;
  avx2_only.avx2 = true;
  f = bert::ops::apply_cap(avx2_only, IsaLevel::ISA_ALL);
  CHECK((f.avx2 && !f.avx512));
}

TEST_CASE("this process uses what the CPU has under the cap from its environment") {
  const bert::ops::Cpu& c = bert::ops::cpu();
  CHECK_FALSE(c.name.empty());
  const CpuFeatures want = bert::ops::apply_cap(c.has, c.cap);
  CHECK(c.use.avx2 == want.avx2);
  CHECK(c.use.avx512 == want.avx512);
  CHECK(c.use.avx512_vnni == want.avx512_vnni);
  CHECK(c.use.avx512_bf16 == want.avx512_bf16);
  CHECK(c.use.amx == want.amx);
  if (const char* cap = std::getenv("BERTCTL_MAX_ISA"); cap && *cap) {
    CHECK(c.cap == bert::ops::parse_isa_level(cap));
    CHECK(c.cap_source == "BERTCTL_MAX_ISA");
    CHECK(bert::ops::highest_level(c.use) <= *c.cap);
  }
  MESSAGE("cpu: " << c.name << ", highest level in use: " << bert::ops::isa_level_name(bert::ops::highest_level(c.use)));
}
