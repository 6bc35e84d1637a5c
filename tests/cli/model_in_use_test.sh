#!/usr/bin/env bash
# A model file truncated while a command reads it (SIGBUS on the mapped pages): the lines already
# computed reach standard output, one line names the file, the exit status is 1 (it was 135, with
# the finished lines lost). Commands reading a pipe answer each line before the next arrives.
source "$(dirname "$0")/lib.sh"

VOCAB=$SOURCE_DIR/vocab/example-vocab.txt
MODEL=$TMP/m.gguf
"$BERTCTL" init --layers 2 --hidden 128 --heads 2 --intermediate 256 --max-position 64 --vocab "$VOCAB" \
  --labels a,b -o "$MODEL" || fail "init"

check "classify: model file truncated between two lines"
mkfifo "$TMP/in"
"$BERTCTL" classify -m "$MODEL" -b 1 <"$TMP/in" >"$TMP/out" 2>"$TMP/err" &
pid=$!
exec 3>"$TMP/in"
echo "the first line" >&3
for _ in $(seq 300); do [ -s "$TMP/out" ] && break; sleep 0.1; done
truncate -s 4096 "$MODEL"
echo "the second line" >&3
exec 3>&-
wait "$pid"
RC=$?
assert_rc 1
assert_eq "the first line's label arrived" "$(wc -l <"$TMP/out")" "1"
assert_eq "one line on stderr" "$(cat "$TMP/err")" \
  "bertctl: classify: $MODEL: the file changed (it was truncated) while in use"

check "tokenize answers each line of a pipe before the next one is written"
mkfifo "$TMP/tin"
"$BERTCTL" tokenize --vocab "$VOCAB" <"$TMP/tin" >"$TMP/tout" &
pid=$!
exec 3>"$TMP/tin"
echo "hello" >&3
for _ in $(seq 300); do [ -s "$TMP/tout" ] && break; sleep 0.1; done
assert_eq "first answer before more input" "$(cat "$TMP/tout")" "[CLS] h ##e ##l ##l ##o [SEP]"
exec 3>&-
wait "$pid"

finish
