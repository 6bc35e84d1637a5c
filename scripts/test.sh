#!/usr/bin/env bash
# Builds bertctl twice (Release, and AddressSanitizer + UndefinedBehaviorSanitizer) and runs every
# test in both. Tests that need ../shared read it through $BERTCTL_SHARED (default ../shared).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
run() {  # run <build-dir> <cmake args...>
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs"
}
echo "== Release build =="
run build -DCMAKE_BUILD_TYPE=Release
echo "== ASan + UBSan build =="
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  run build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBERTCTL_SANITIZE=ON
