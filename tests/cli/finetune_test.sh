#!/usr/bin/env bash
# bertctl finetune on the example that ships with the repository: it learns, its output serves
# classify and exports to Hugging Face, a run stopped (by --stop-after-steps or by Ctrl-C) and resumed
# ends bit-identical to an uninterrupted one, and bad rows are reported by row number.
source "$(dirname "$0")/lib.sh"

EX=$SOURCE_DIR/testdata/example
VOCAB=$SOURCE_DIR/vocab/example-vocab.txt
BASE=$TMP/base.gguf
"$BERTCTL" init --layers 2 --hidden 64 --heads 4 --intermediate 128 --max-position 64 --vocab "$VOCAB" -o "$BASE" ||
  fail "init"
COMMON=(--train "$EX/reviews-train.csv" --epochs 3 --batch-size 16 --lr 1e-3 --dropout 0.1 --max-length 32 -q)

check "fine-tuning the example learns it; classify serves the result"
run "$BERTCTL" finetune -m "$BASE" "${COMMON[@]}" --eval "$EX/reviews-test.csv" -o "$TMP/full.gguf" --log "$TMP/log.jsonl"
assert_rc 0
accuracy=$(grep '"event":"eval"' "$TMP/log.jsonl" | tail -1 | grep -oE '"accuracy":[0-9.]+' | cut -d: -f2)
if awk "BEGIN { exit !($accuracy >= 0.9) }"; then pass; else fail "final accuracy $accuracy < 0.9"; fi
run "$BERTCTL" classify -m "$TMP/full.gguf" <<<$'The kettle arrived broken and I want a refund.\nI love this phone, it is fantastic.'
assert_rc 0
assert_eq "labels" "$(cut -f1 <<<"$OUT")" $'negative\npositive'
if [ ! -e "$TMP/full.gguf.ckpt" ]; then pass; else fail "the checkpoint of a finished run is left behind"; fi

check "finetune's evaluation of a model with dropout 0.1 is what classify computes on the same rows"
# Rows without quotes split at their last comma; the eval loss is the mean of -log p(gold label).
{ printf 'text\tlabel\n'; tail -n +2 "$EX/reviews-test.csv" | grep -v '"' | sed -E 's/,([^,]*)$/\t\1/'; } >"$TMP/eval.tsv"
run "$BERTCTL" finetune -m "$BASE" "${COMMON[@]}" --eval "$TMP/eval.tsv" -o "$TMP/drop.gguf" --log "$TMP/drop.jsonl"
assert_rc 0
logged=$(grep '"event":"eval"' "$TMP/drop.jsonl" | tail -1 | grep -oE '"loss":[0-9.e+-]+' | cut -d: -f2)
run "$BERTCTL" classify -m "$TMP/drop.gguf" --format jsonl < <(tail -n +2 "$TMP/eval.tsv" | cut -f1)
assert_rc 0
computed=$(paste <(tail -n +2 "$TMP/eval.tsv" | cut -f2) <(sed -E 's/.*"scores":\{([^}]*)\}.*/\1/' <<<"$OUT") | awk -F'\t' '
  { n = split($2, kv, ","); for (i = 1; i <= n; i++) { split(kv[i], p, ":"); gsub(/"/, "", p[1]); if (p[1] == $1) s -= log(p[2]) } rows++ }
  END { printf "%.6f", s / rows }')
if [ -n "$logged" ] && awk "BEGIN { d = $logged - $computed; exit !(d < 1e-4 && d > -1e-4) }"; then pass
else fail "eval loss $logged in the log, $computed from classify"; fi
run "$BERTCTL" evaluate -m "$TMP/drop.gguf" "$TMP/eval.tsv" --format json
assert_rc 0
evaluated=$(grep -oE '"loss":[0-9.e+-]+' <<<"$OUT" | cut -d: -f2)
if [ -n "$evaluated" ] && awk "BEGIN { d = $logged - $evaluated; exit !(d < 1e-5 && d > -1e-5) }"; then pass
else fail "eval loss $logged in the log, $evaluated from bertctl evaluate"; fi
assert_eq "accuracy, evaluate vs finetune" "$(grep -oE '"accuracy":[0-9.e+-]+' <<<"$OUT")" \
  "$(grep '"event":"eval"' "$TMP/drop.jsonl" | tail -1 | grep -oE '"accuracy":[0-9.e+-]+')"
{ printf 'text\tlabel\n'; printf 'fine and awful\tmixed\n'; } >"$TMP/eval-unknown.tsv"
run "$BERTCTL" evaluate -m "$TMP/drop.gguf" "$TMP/eval-unknown.tsv"
assert_rc 1
assert_contains "unknown label named" "$ERR" "eval-unknown.tsv row 1: label 'mixed' is not one of the model's labels"

check "the same line prints the same scores whatever it is batched with"
line="The kettle arrived broken and I want a refund."
{ for i in $(seq 1 40); do echo "$line"; head -c $((i * 7)) <<<"not bad at all for the price, it heats fast and looks good on the counter" | tr -d '\n'; echo; done; } >"$TMP/repeat.txt"
for b in 1 3 32; do
  run "$BERTCTL" classify -m "$TMP/full.gguf" --all-scores -b "$b" "$TMP/repeat.txt"
  assert_rc 0
  assert_eq "distinct outputs for one line (batch size $b)" "$(paste - - <<<"$OUT" | cut -f1-4 | sort -u | wc -l)" 1
  printf '%s\n' "$OUT" | sed -n 1p >>"$TMP/repeat.firsts"
done
assert_eq "same across batch sizes" "$(sort -u "$TMP/repeat.firsts" | wc -l)" 1

check "a label only the evaluation file has is refused, naming it; --new-head asks for a new head"
"$BERTCTL" init --layers 2 --hidden 64 --heads 4 --intermediate 128 --max-position 64 --vocab "$VOCAB" \
  --labels positive,negative,neutral -o "$TMP/headed.gguf" || fail "init --labels"
{ head -5 "$EX/reviews-test.csv"; echo "It is fine and awful at once,mixed"; } >"$TMP/eval-extra.csv"
run "$BERTCTL" finetune -m "$TMP/headed.gguf" "${COMMON[@]}" --eval "$TMP/eval-extra.csv" -o "$TMP/extra.gguf"
assert_rc 1
assert_contains "names file, row and label" "$ERR" "$TMP/eval-extra.csv row 5: label 'mixed'"
if [ ! -e "$TMP/extra.gguf" ]; then pass; else fail "an output was written"; fi
run "$BERTCTL" finetune -m "$TMP/headed.gguf" "${COMMON[@]}" --eval "$TMP/eval-extra.csv" -o "$TMP/extra.gguf" --new-head
assert_rc 0
assert_contains "new head's labels" "$("$BERTCTL" info "$TMP/extra.gguf")" "mixed"
run "$BERTCTL" finetune -m "$TMP/headed.gguf" "${COMMON[@]}" --eval "$EX/reviews-test.csv" -o "$TMP/kept.gguf"
assert_rc 0
assert_contains "init's head and order kept" "$("$BERTCTL" info "$TMP/kept.gguf")" '["positive","negative","neutral"]'

check "a headerless CSV: a note when its first row is read as a header; --no-header keeps it"
printf 'great product,positive\nawful thing,negative\nfine,positive\nbad,negative\n' >"$TMP/nohdr.csv"
run "$BERTCTL" finetune -m "$BASE" --train "$TMP/nohdr.csv" --text-column 0 --label-column 1 --epochs 1 -o "$TMP/nh1.gguf"
assert_rc 0
assert_contains "note" "$ERR" "the first row was read as a header, but its label 'positive' is a label of the data"
assert_contains "3 rows" "$ERR" "3 training rows"
assert_contains "singular" "$ERR" "1 epoch of 1 step"
run "$BERTCTL" finetune -m "$BASE" --train "$TMP/nohdr.csv" --no-header --text-column 0 --label-column 1 --epochs 1 -o "$TMP/nh2.gguf"
assert_rc 0
assert_contains "4 rows" "$ERR" "4 training rows"
if [[ "$ERR" != *"read as a header"* ]]; then pass; else fail "note with --no-header"; fi

check "the evaluation report goes to standard output, -q or not; stderr lines all carry the prefix"
run "$BERTCTL" finetune -m "$BASE" --train "$TMP/nohdr.csv" --no-header --text-column 0 --label-column 1 --epochs 1 \
  --eval "$EX/reviews-test.csv" --new-head -q -o "$TMP/nh3.gguf"
assert_rc 0
assert_contains "report" "$OUT" "evaluation after step 1 (epoch 1)"
assert_contains "table" "$OUT" "confusion (rows: true, columns: predicted)"
LOUD=()
for a in "${COMMON[@]}"; do [ "$a" = -q ] || LOUD+=("$a"); done
run "$BERTCTL" finetune -m "$BASE" "${LOUD[@]}" --eval "$EX/reviews-test.csv" -o "$TMP/nh4.gguf"
assert_rc 0
assert_eq "unprefixed stderr lines" "$(grep -vc '^bertctl: finetune: ' "$ERR_FILE")" 0

check "classify and encode read CSV/TSV columns: one record per data row, same numbers as plain text"
cat >"$TMP/table.csv" <<'CSV'
id,review,other
1,"The kettle arrived broken, and I want a refund.",x
2,"She said ""great"" and meant it",y
3,plain words here,z
CSV
printf '%s\n' "The kettle arrived broken, and I want a refund." 'She said "great" and meant it' "plain words here" >"$TMP/table.txt"
run "$BERTCTL" classify -m "$TMP/full.gguf" "$TMP/table.txt"
plain=$OUT
run "$BERTCTL" classify -m "$TMP/full.gguf" --input-format csv --text-column review "$TMP/table.csv"
assert_rc 0
assert_eq "csv = text" "$OUT" "$plain"
run "$BERTCTL" classify -m "$TMP/full.gguf" --input-format csv --text-column 1 - <"$TMP/table.csv"
assert_eq "by index, from stdin" "$OUT" "$plain"
tr ',' '\t' <<<$'id,sentence\n1,plain words here' >"$TMP/table.tsv"
run "$BERTCTL" encode -m "$TMP/full.gguf" --input-format tsv --text-column sentence "$TMP/table.tsv"
assert_rc 0
assert_eq "tsv embedding = text embedding" "$OUT" "$("$BERTCTL" encode -m "$TMP/full.gguf" <<<"plain words here")"
run "$BERTCTL" classify -m "$TMP/full.gguf" --input-format csv --text-column nope "$TMP/table.csv"
assert_rc 1
assert_contains "missing column" "$ERR" "no column 'nope' (--text-column); the header has: id, review, other"
printf 'text\n"one line\nand another"\n' >"$TMP/multiline.csv"
run "$BERTCTL" classify -m "$TMP/full.gguf" --input-format csv "$TMP/multiline.csv"
assert_rc 1
assert_contains "multi-line record" "$ERR" "multiline.csv:2: a quoted field is not closed on its line"

check "the output exports to a Hugging Face directory"
run "$BERTCTL" convert "$TMP/full.gguf" --to hf -o "$TMP/hf"
assert_rc 0
assert_contains "id2label" "$(cat "$TMP/hf/config.json")" '"2": "positive"'

check "stopped after 7 steps and resumed = uninterrupted, bit for bit"
run "$BERTCTL" finetune -m "$BASE" "${COMMON[@]}" --eval "$EX/reviews-test.csv" -o "$TMP/part.gguf" --stop-after-steps 7
assert_rc 0
if [ -e "$TMP/part.gguf.ckpt" ] && [ ! -e "$TMP/part.gguf" ]; then pass; else fail "expected only a checkpoint"; fi
run "$BERTCTL" finetune -m "$BASE" "${COMMON[@]}" --eval "$EX/reviews-test.csv" -o "$TMP/part.gguf" --resume "$TMP/part.gguf.ckpt"
assert_rc 0
assert_files_equal "resumed model" "$TMP/full.gguf" "$TMP/part.gguf"

check "--resume without the settings takes them from the checkpoint; a real conflict is refused"
run "$BERTCTL" finetune -m "$BASE" "${COMMON[@]}" --eval "$EX/reviews-test.csv" -o "$TMP/bare.gguf" --stop-after-steps 7
assert_rc 0
run "$BERTCTL" finetune --resume "$TMP/bare.gguf.ckpt" --train "$EX/reviews-train.csv" --eval "$EX/reviews-test.csv" \
  -o "$TMP/bare.gguf" --lr 2e-3 -q
assert_rc 2
assert_contains "conflict named" "$ERR" "lr = 0.001"
run "$BERTCTL" finetune --resume "$TMP/bare.gguf.ckpt" --train "$EX/reviews-train.csv" --eval "$EX/reviews-test.csv" \
  -o "$TMP/bare.gguf" -q
assert_rc 0
assert_files_equal "resumed with no settings repeated" "$TMP/full.gguf" "$TMP/bare.gguf"

check "one label in the training data is refused; an unwritable --log ends the run with a message"
printf 'text,label\ngood,pos\nfine,pos\n' >"$TMP/one-label.csv"
run "$BERTCTL" finetune -m "$BASE" --train "$TMP/one-label.csv" -o "$TMP/one.gguf" -q
assert_rc 1
assert_contains "one label" "$ERR" "one-label.csv: every training row has the label 'pos'"
if [ -c /dev/full ] && [ -w /dev/full ]; then
  run "$BERTCTL" finetune -m "$BASE" "${COMMON[@]}" -o "$TMP/log-full.gguf" --log /dev/full
  assert_rc 1
  assert_contains "log" "$ERR" "cannot write /dev/full"
fi

check "-o DIR and a column index past 32 bits: clear errors before any work"
mkdir -p "$TMP/outdir"
run "$BERTCTL" finetune -m "$BASE" "${COMMON[@]}" -o "$TMP/outdir"
assert_rc 2
assert_contains "directory" "$ERR" "is a directory"
if [ ! -e "$TMP/outdir.ckpt" ]; then pass; else fail "a checkpoint was left beside the directory"; fi
run "$BERTCTL" finetune -m "$BASE" "${COMMON[@]}" --text-column 99999999999 -o "$TMP/col.gguf"
assert_rc 1
assert_contains "column" "$ERR" "--text-column 99999999999 is beyond the 2 columns of the header"

check "a checkpoint whose counters were tampered with is refused, naming the file"
run "$BERTCTL" finetune -m "$BASE" "${COMMON[@]}" -o "$TMP/tamper.gguf" --stop-after-steps 7
assert_rc 0
# Overwrite a little-endian int64 metadata value: key, then its 4-byte type, then the value.
set_counter() {  # set_counter FILE KEY HEX_BYTES
  local at
  at=$(grep -obUa -- "$2" "$1" | head -1 | cut -d: -f1)
  printf "$3" | dd of="$1" bs=1 seek=$((at + ${#2} + 4)) conv=notrunc status=none
}
for tamper in "bertctl.train.micro_in_epoch:\x18\xfc\xff\xff\xff\xff\xff\xff" \
  "bertctl.train.micro_in_epoch:\x00\x00\x00\x00\x00\x00\x00\x40" "bertctl.train.epoch:\xfb\xff\xff\xff\xff\xff\xff\xff" \
  "bertctl.train.step:\xfb\xff\xff\xff\xff\xff\xff\xff"; do
  cp "$TMP/tamper.gguf.ckpt" "$TMP/t.ckpt"
  set_counter "$TMP/t.ckpt" "${tamper%%:*}" "${tamper#*:}"
  run "$BERTCTL" finetune --resume "$TMP/t.ckpt" --train "$EX/reviews-train.csv" -o "$TMP/t.gguf" -q
  assert_rc 1
  assert_contains "${tamper%%:*}" "$ERR" "t.ckpt: the checkpoint's position"
  if [ ! -e "$TMP/t.gguf" ]; then pass; else fail "an output was written"; fi
done

check "Ctrl-C writes a checkpoint, says how to resume, and the resumed run matches"
# One thread and small batches make a run of a few seconds; the signal is sent once the log shows
# the first step (before that the handler may not be installed, and a background job ignores it).
LONG=(--train "$EX/reviews-train.csv" --epochs 4 --batch-size 4 --lr 1e-3 --dropout 0.1 --max-length 32 -q -t 1)
"$BERTCTL" finetune -m "$BASE" "${LONG[@]}" -o "$TMP/ref.gguf" ||
  fail "uninterrupted long run"
"$BERTCTL" finetune -m "$BASE" "${LONG[@]}" -o "$TMP/int.gguf" --log "$TMP/int.log" --log-every 1 2>"$TMP/int.err" &
pid=$!
for _ in $(seq 600); do
  grep -q '"event":"train"' "$TMP/int.log" 2>/dev/null && break
  sleep 0.1
done
kill -INT "$pid"
wait "$pid"
RC=$?
ERR=$(cat "$TMP/int.err")
if [ "$RC" -eq 130 ]; then
  assert_contains "resume hint" "$ERR" "--resume $TMP/int.gguf.ckpt"
  run "$BERTCTL" finetune -m "$BASE" "${LONG[@]}" -o "$TMP/int.gguf" --resume "$TMP/int.gguf.ckpt"
  assert_rc 0
  assert_files_equal "resumed after SIGINT" "$TMP/ref.gguf" "$TMP/int.gguf"
else
  fail "the interrupted run exited $RC, not 130: $ERR"
fi

check "a row without a label stops the run before training, naming the row"
printf 'text,label\ngood,positive\n"no label here",\nbad,negative\n' >"$TMP/holes.csv"
run "$BERTCTL" finetune -m "$BASE" --train "$TMP/holes.csv" -o "$TMP/holes.gguf" -q
assert_rc 1
assert_contains "row number" "$ERR" "holes.csv: row 2 (line 3): the label is missing"
if [ ! -e "$TMP/holes.gguf" ]; then pass; else fail "output written despite the error"; fi
run "$BERTCTL" finetune -m "$BASE" --train "$TMP/holes.csv" -o "$TMP/holes.gguf" --on-error skip --epochs 1
assert_rc 0
assert_contains "skip count" "$ERR" "skipped 1 bad row(s)"

check "quoted CSV fields with commas, quotes and newlines; TSV and JSONL inputs"
printf 'text,label\n"great, really ""great""\nphone",positive\n"awful",negative\n' >"$TMP/q.csv"
printf 'text\tlabel\ngreat phone\tpositive\nawful phone\tnegative\n' >"$TMP/q.tsv"
printf '{"text":"great phone","label":"positive"}\n{"text":"awful phone","label":"negative"}\n' >"$TMP/q.jsonl"
for f in q.csv q.tsv q.jsonl; do
  run "$BERTCTL" finetune -m "$BASE" --train "$TMP/$f" -o "$TMP/$f.gguf" --epochs 1
  assert_rc 0
  assert_contains "$f rows" "$ERR" "2 training rows"
done

check "an existing output is kept unless --force"
echo precious >"$TMP/keep.gguf"
run "$BERTCTL" finetune -m "$BASE" --train "$TMP/q.tsv" -o "$TMP/keep.gguf" --epochs 1
assert_rc 2
assert_eq "untouched" "$(cat "$TMP/keep.gguf")" "precious"

check "usage errors exit 2"
run "$BERTCTL" finetune -m "$BASE" --train "$TMP/q.tsv" -o "$TMP/u.gguf" --keep-best accuracy
assert_rc 2
run "$BERTCTL" finetune -m "$BASE" --train "$TMP/q.tsv" -o "$TMP/u.gguf" --text-column nosuch
assert_rc 1
assert_contains "column" "$ERR" "no column 'nosuch'"

finish
