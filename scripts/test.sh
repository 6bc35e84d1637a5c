#!/usr/bin/env bash
# Builds bertctl twice (Release, and AddressSanitizer + UndefinedBehaviorSanitizer) and runs every
# test in both, then each fuzzing harness briefly (a finding fails the run). Where the CPU has more, the Release tests run again with the instruction sets capped
# (BERTCTL_MAX_ISA): at AVX2, and at AVX-512 without VNNI, so one machine proves the answers of the
# older CPUs users have. Tests that need ../shared read it through $BERTCTL_SHARED (default
# ../shared).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
build() {  # build <build-dir> <cmake args...>
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}
run_tests() { ctest --test-dir "$1" --output-on-failure -j "$jobs"; }

echo "== Release build =="
build build -DCMAKE_BUILD_TYPE=Release -DBERTCTL_UNITY_CMD=ON
run_tests build
has() { build/cmd/bertctl info --cpu --format json | grep -q "\"has\":\[[^]]*\"$1\""; }
# A cap at or above what the CPU has changes nothing, so each capped pass runs only where it bites.
if has avx512; then
  echo "== Release tests, capped at AVX2 (BERTCTL_MAX_ISA=avx2) =="
  BERTCTL_MAX_ISA=avx2 run_tests build
else
  echo "== Release tests capped at AVX2: the uncapped run above was AVX2 already (no AVX-512 here) =="
fi
if has avx512_vnni; then
  echo "== Release tests, capped at AVX-512 without VNNI (BERTCTL_MAX_ISA=avx512) =="
  BERTCTL_MAX_ISA=avx512 run_tests build
else
  echo "== Release tests capped at AVX-512 without VNNI: skipped, this CPU has no AVX-512 VNNI =="
fi
echo "== ASan + UBSan build =="
build build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBERTCTL_SANITIZE=ON -DBERTCTL_UNITY_CMD=ON
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_tests build-asan
echo "== Fuzzing smoke: every libFuzzer harness for 3 s on the saved seeds (scripts/fuzz.sh) =="
bash scripts/fuzz.sh 3
