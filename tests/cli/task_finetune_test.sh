#!/usr/bin/env bash
# finetune --task token-classification and question-answering from the command line: CoNLL and
# SQuAD in, a tagger and a question answerer out that ner and qa run at once, entity F1 and SQuAD
# EM/F1 in the evaluation, a stopped run resumed bit for bit, init --task, and bad data refused
# with one line naming the file and line (or question).
source "$(dirname "$0")/lib.sh"
need_shared fixtures/tiny-uncased-mlm || finish
export OMP_NUM_THREADS=1
TD=$SOURCE_DIR/testdata/tasks
MLM=$BERTCTL_SHARED/fixtures/tiny-uncased-mlm
COMMON=(--epochs 3 --lr 2e-3 -b 4 --seed 3 -q -t 1)

check "a tagger from CoNLL: a new head for the data's tags, entity F1 reported, ner runs it"
run "$BERTCTL" finetune --task token-classification -m "$MLM" --train "$TD/people-places.conll" --eval-split 0.25 \
  "${COMMON[@]}" --log "$TMP/ner.log" -o "$TMP/ner.gguf"
assert_rc 0
assert_contains "evaluation" "$OUT" "entity F1"
assert_contains "per type" "$OUT" "PER"
run "$BERTCTL" info "$TMP/ner.gguf" --format json
assert_contains "task" "$OUT" '"task":"token-classification"'
assert_contains "labels: O first, B- before I-" "$OUT" '"labels":["O","B-LOC","B-ORG","I-ORG","B-PER","I-PER"]'
first=$(grep '"event":"train"' "$TMP/ner.log" | head -1 | grep -o '"loss":[0-9.e-]*' | cut -d: -f2)
last=$(grep '"event":"train"' "$TMP/ner.log" | tail -1 | grep -o '"loss":[0-9.e-]*' | cut -d: -f2)
if awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a) }'; then pass; else fail "loss did not fall: $first -> $last"; fi
run "$BERTCTL" ner -m "$TMP/ner.gguf" <<<"Alice Moreau moved to Paris ."
assert_rc 0
assert_contains "a JSON list" "$OUT" "["

check "a tagger stopped after 2 steps and resumed = uninterrupted, bit for bit"
run "$BERTCTL" finetune --task token-classification -m "$MLM" --train "$TD/people-places.conll" "${COMMON[@]}" \
  -o "$TMP/full.gguf"
assert_rc 0
run "$BERTCTL" finetune --task token-classification -m "$MLM" --train "$TD/people-places.conll" "${COMMON[@]}" \
  -o "$TMP/part.gguf" --stop-after-steps 2
assert_rc 0
run "$BERTCTL" finetune --resume "$TMP/part.gguf.ckpt" --train "$TD/people-places.conll" -o "$TMP/part.gguf" -q -t 1
assert_rc 0
assert_files_equal "resumed tagger" "$TMP/full.gguf" "$TMP/part.gguf"

check "a question answerer from SQuAD JSON: exact match and F1 reported, qa runs it"
run "$BERTCTL" finetune --task question-answering -m "$MLM" --train "$TD/tiny-squad.json" --eval "$TD/tiny-squad.json" \
  --max-length 48 --doc-stride 8 "${COMMON[@]}" -o "$TMP/qa.gguf"
assert_rc 0
assert_contains "evaluation" "$OUT" "exact match"
run "$BERTCTL" qa -m "$TMP/qa.gguf" <<<$'Where was Alice born?\tAlice Moreau was born in Lyon in 1984.'
assert_rc 0
assert_contains "an answer" "$OUT" '"answer":'

check "init --task makes every head; a tagger needs labels"
run "$BERTCTL" init --task question-answering --layers 1 --hidden 32 --heads 2 --intermediate 64 --max-position 64 \
  --vocab "$MLM" -o "$TMP/qa0.gguf"
assert_rc 0
run "$BERTCTL" info "$TMP/qa0.gguf" --format json
assert_contains "architecture" "$OUT" '"architecture":"BertForQuestionAnswering"'
run "$BERTCTL" init --task token-classification --layers 1 --hidden 32 --heads 2 --intermediate 64 --vocab "$MLM" \
  -o "$TMP/t0.gguf"
assert_rc 2
assert_contains "message" "$ERR" "--task token-classification needs --labels"

check "bad training data: one line naming the file and line or question, exit 1, no output"
printf 'John\tB-PER\nlives here\n' >"$TMP/notab.conll"
run "$BERTCTL" finetune --task token-classification -m "$MLM" --train "$TMP/notab.conll" -o "$TMP/x.gguf" -q
assert_rc 1
assert_eq "no tab" "$ERR" "bertctl: finetune: $TMP/notab.conll:2: expected token<TAB>tag, found no tab"
run "$BERTCTL" finetune --task token-classification -m "$MLM" --train "$TD/people-places.conll" --labels O,B-PER,I-PER \
  -o "$TMP/x.gguf" -q
assert_rc 1
assert_contains "tag outside --labels" "$ERR" "people-places.conll:"
assert_contains "tag outside --labels" "$ERR" "is not one of the labels"
sed 's/"answer_start": 25/"answer_start": 26/' "$TD/tiny-squad.json" >"$TMP/bad.json"
run "$BERTCTL" finetune --task question-answering -m "$MLM" --train "$TMP/bad.json" -o "$TMP/x.gguf" -q
assert_rc 1
assert_contains "misplaced answer" "$ERR" "question q1: the answer \"Lyon\" is not at answer_start 26"
if [ -e "$TMP/x.gguf" ]; then fail "a refused run wrote $TMP/x.gguf"; else pass; fi
printf 'John\tB-PER\nlives\tO\n\nhere\tI-LOC\nnow\tO\n' >"$TMP/broken.conll"
run "$BERTCTL" finetune --task token-classification -m "$MLM" --train "$TMP/broken.conll" --epochs 1 -o "$TMP/b.gguf" -t 1
assert_rc 0
assert_contains "broken BIO is a counted note" "$ERR" "1 tag(s) break BIO"
finish
