#!/usr/bin/env bash
# The main job on the example that ships with the repository: make a small BERT, fine-tune it on
# testdata/example/reviews-train.csv (made-up product reviews: positive / neutral / negative),
# evaluate it on reviews-test.csv, and classify a few new lines with it. Takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
bertctl=${BERTCTL:-build/cmd/bertctl}
out=${1:-build/example}
mkdir -p "$out"
set -x
"$bertctl" init --layers 2 --hidden 64 --heads 4 --intermediate 128 --max-position 64 \
  --vocab vocab/example-vocab.txt --labels negative,neutral,positive -o "$out/base.gguf" --force
"$bertctl" finetune -m "$out/base.gguf" --train testdata/example/reviews-train.csv \
  --eval testdata/example/reviews-test.csv -o "$out/reviews.gguf" --epochs 3 --lr 1e-3 --force
printf '%s\n' "What a fantastic camera, I love it." "The drill arrived broken; I want a refund." \
  "It is a decent lamp, nothing special." | "$bertctl" classify -m "$out/reviews.gguf" --all-scores
