#!/usr/bin/env bash
# Fine-tunes freshly initialised small BERTs (4 layers, hidden 256, 4 heads, intermediate 1024) from
# scratch on real labelled data in ../shared/data and reports test accuracy, macro-F1, the confusion
# matrix and the wall time: sms_spam (ham/spam) and trec6 (6 question types). Not a test.
#
# usage: bench/finetune_real.sh [BERTCTL] [OUT_DIR]     env: BERTCTL_SHARED, THREADS (default: all)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bertctl=${1:-${BERTCTL:-$repo/build/cmd/bertctl}}
out=${2:-$repo/build/finetune-real}
shared=${BERTCTL_SHARED:-$repo/../shared}
threads=${THREADS:-$(nproc)}
mkdir -p "$out"
for set in sms_spam trec6; do
  data=$shared/data/$set
  labels=$(tail -n +2 "$data/train.csv" | awk -F, '{print $NF}' | sort -u | paste -sd, -)
  "$bertctl" init --layers 4 --hidden 256 --heads 4 --intermediate 1024 --max-position 128 \
    --vocab "$shared/vocab/bert-base-uncased.txt" --labels "$labels" --seed 1 -o "$out/$set-base.gguf" --force
  start=$(date +%s.%N)
  "$bertctl" finetune -m "$out/$set-base.gguf" --train "$data/train.csv" --eval "$data/test.csv" \
    -o "$out/$set.gguf" --epochs 3 --batch-size 32 --max-length 64 --lr 5e-4 --seed 1 --threads "$threads" \
    --log "$out/$set.log" --force 2> "$out/$set.err"
  end=$(date +%s.%N)
  echo "== $set: $(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", e - s }') s, $threads threads =="
  # The last evaluation table.
  awk '/evaluation after step/ { block = "" } { block = block $0 "\n" } END { printf "%s", block }' "$out/$set.err" |
    sed -n '/evaluation after step/,$p' | grep -v '^bertctl: finetune: wrote'
  grep '"event":"eval"' "$out/$set.log" | tail -1
done
