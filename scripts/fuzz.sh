#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/: clang, ASan + UBSan) and runs each for SECONDS (default 60)
# on a working corpus seeded from testdata/fuzz/<harness> (and testdata/io for checkpoints), with a
# dictionary of the format's tokens, an RSS limit of 2 GB and bounded input sizes, so that memory
# amplification fails like a crash. Prints per harness: executions, coverage (edges), features, and
# findings (crash/oom/timeout/leak files under build-fuzz/findings/HARNESS/). Exits 1 on any finding.
#
#   bash scripts/fuzz.sh        # a minute each
#   bash scripts/fuzz.sh 3      # the smoke run of scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
dir=build-fuzz
CXX=clang++ CC=clang cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBERTCTL_FUZZ=ON >/dev/null
cmake --build "$dir" --target fuzzers -j "$(nproc)"

declare -A dict=([safetensors]=json [config_json]=json [json]=json [tokenizer_files]=json [task_data]=json
                 [pickle]=pickle [torch_checkpoint]=pickle [gguf]=gguf)
found=0
printf '%-17s %12s %8s %8s  %s\n' harness executions edges features findings
for name in safetensors torch_checkpoint pickle gguf config_json tokenizer_files tokenize_line dataset json task_data; do
  corpus=$dir/corpus/$name
  findings=$dir/findings/$name
  mkdir -p "$corpus" "$findings"
  seeds=("testdata/fuzz/$name")
  [ "$name" = torch_checkpoint ] && seeds+=(testdata/io)
  args=(-max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -timeout=20 -print_final_stats=1
        -artifact_prefix="$findings/")
  [ -n "${dict[$name]:-}" ] && args+=(-dict="fuzz/dict/${dict[$name]}.dict")
  log=$dir/$name.log
  "$dir/fuzz/${name}_fuzz" "${args[@]}" "$corpus" "${seeds[@]}" >"$log" 2>&1 || true
  execs=$(grep -o 'number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  edges=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo 0)
  features=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo 0)
  files=$(find "$findings" -type f | sort)
  if [ -n "$files" ]; then
    found=1
    printf '%-17s %12s %8s %8s  %s (log: %s)\n' "$name" "$execs" "$edges" "$features" "$(echo $files)" "$log"
  else
    printf '%-17s %12s %8s %8s  none\n' "$name" "$execs" "$edges" "$features"
  fi
done
exit $found
