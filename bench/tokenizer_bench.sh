#!/usr/bin/env bash
# Tokenizer throughput of `bertctl tokenize` (a benchmark, not a test): MB/s over every file of
# ../shared/corpus/english/ (1 MB = 1e6 bytes of input), bert-base-uncased, --format ids to
# /dev/null, with 1 thread and with all threads; the median of REPS timed runs after one warm-up.
# When Hugging Face's Rust tokenizers are installed for the peer benchmarks
# ($PEERS_DIR/node_modules/tokenizers, by ../shared/bench/peers.sh setup), runs `peers.sh tok` right
# after ours and prints the ratios (compare ratios measured back to back, not absolute figures).
#
# usage: bench/tokenizer_bench.sh [BERTCTL]     (default: $BERTCTL, else build/cmd/bertctl)
# env:   BERTCTL_SHARED (default ../shared beside the repository), REPS (default 3), PEERS_DIR
# Output: one JSON line per measurement on stdout, then a summary for people.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bertctl=${1:-${BERTCTL:-$repo/build/cmd/bertctl}}
shared=${BERTCTL_SHARED:-$repo/../shared}
reps=${REPS:-3}
peers_dir=${PEERS_DIR:-$HOME/.cache/bertctl-peers}
vocab=$shared/vocab/bert-base-uncased.txt
corpus=$shared/corpus/english

[ -x "$bertctl" ] || { echo "tokenizer_bench: no bertctl binary at $bertctl (build it, or pass its path)" >&2; exit 2; }
[ -d "$corpus" ] && [ -f "$vocab" ] || { echo "tokenizer_bench: $corpus or $vocab missing" >&2; exit 2; }
files=("$corpus"/*.txt)
bytes=$(cat "${files[@]}" | wc -c)
all_threads=$(nproc)

now() { date +%s.%N; }
# measure THREADS: prints "median min max" MB/s
measure() {
  local t=$1 i start end
  local -a rates=()
  "$bertctl" tokenize --vocab "$vocab" --format ids --threads "$t" "${files[@]}" >/dev/null  # warm-up
  for ((i = 0; i < reps; i++)); do
    start=$(now)
    "$bertctl" tokenize --vocab "$vocab" --format ids --threads "$t" "${files[@]}" >/dev/null
    end=$(now)
    rates+=("$(awk -v b="$bytes" -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", b / (e - s) / 1e6 }')")
  done
  printf '%s\n' "${rates[@]}" | sort -g | awk '{ r[NR] = $1 } END {
    m = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2; printf "%.3f %.3f %.3f\n", m, r[1], r[NR] }'
}

declare -A median
for t in 1 "$all_threads"; do
  [ -n "${median[$t]:-}" ] && continue
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  read -r med lo hi < <(measure "$t")
  median[$t]=$med
  printf '{"bench":"tokenize","tool":"bertctl","vocab":"bert-base-uncased","corpus":"%s","files":%d,"bytes":%d,"threads":%d,"reps":%d,"median_MBps":%s,"min_MBps":%s,"max_MBps":%s,"load_before":"%s"}\n' \
    "$corpus" "${#files[@]}" "$bytes" "$t" "$reps" "$med" "$lo" "$hi" "$load"
done

summary="bertctl tokenize: ${median[1]} MB/s on 1 thread, ${median[$all_threads]} MB/s on $all_threads threads"
summary+=" ($(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB of English prose, median of $reps runs)"

if [ -d "$peers_dir/node_modules/tokenizers" ] && [ -x "$shared/bench/peers.sh" ]; then
  peer_out=$(PEERS_DIR=$peers_dir "$shared/bench/peers.sh" tok 2>/dev/null || true)
  printf '%s\n' "$peer_out" | grep '^{' || true
  # The Rust tokenizers' median MB/s with 1 and with 2 Rayon threads.
  rust() {
    printf '%s\n' "$peer_out" | grep '"peer": *"tokenizers (rust' | grep "\"rayon_threads\": *\"$1\"" |
      grep -o '"median_MBps": *[0-9.e+-]*' | head -1 | sed 's/.*: *//'
  }
  r1=$(rust 1)
  r2=$(rust 2)
  if [ -n "$r1" ]; then
    summary+=$'\n'"Hugging Face tokenizers (Rust): $(printf '%.2f' "$r1") MB/s on 1 thread"
    [ -n "$r2" ] && summary+=", $(printf '%.2f' "$r2") MB/s on 2 threads"
    summary+=$'\n'"ratio bertctl/Rust: $(awk -v a="${median[1]}" -v b="$r1" 'BEGIN { printf "%.1f", a / b }')x on 1 thread"
    [ -n "$r2" ] && summary+=", $(awk -v a="${median[$all_threads]}" -v b="$r2" 'BEGIN { printf "%.1f", a / b }')x on 2 threads"
  else
    summary+=$'\n'"(peers.sh tok gave no Rust tokenizers figure)"
  fi
fi
echo "$summary"
