#!/usr/bin/env bash
# Usage errors: one line (`bertctl: [command: ]message`), exit 2, with the closest name when the
# mistake is a likely typo; `help` alone lists the commands; -V and `version` print the version.
source "$(dirname "$0")/lib.sh"

VOCAB=$SOURCE_DIR/vocab/example-vocab.txt

one_line_usage_error() {  # one_line_usage_error WHAT NEEDLE
  assert_rc 2
  assert_eq "$1: lines on stderr" "$(count_lines "$ERR_FILE")" 1
  assert_contains "$1" "$ERR" "$2"
}

check "an unknown command is named, with the closest one"
run "$BERTCTL" tokenise --vocab "$VOCAB"
one_line_usage_error "tokenise" "bertctl: unknown command 'tokenise' (did you mean 'tokenize'?)"
run "$BERTCTL" frobnicate
one_line_usage_error "frobnicate" "the commands are tokenize, encode"
if [[ "$ERR" != *"did you mean"* ]]; then pass; else fail "suggested a command for frobnicate: $ERR"; fi

check "an unknown option gets the closest one, on the same line"
run "$BERTCTL" tokenize --modle x </dev/null
one_line_usage_error "--modle" "(did you mean --model?)"
run "$BERTCTL" finetune --epoch 3 -m a --train b -o c
one_line_usage_error "--epoch" "(did you mean --epochs?)"
assert_contains "names the command" "$ERR" "bertctl: finetune: "

check "--lowercase with --no-lowercase is refused by tokenize as by init"
run "$BERTCTL" tokenize --vocab "$VOCAB" --lowercase --no-lowercase <<<"Hello"
one_line_usage_error "tokenize" "--lowercase excludes --no-lowercase"

check "--vocab given a tokenizer.json (and --tokenizer a vocab.txt) is read as what it is"
printf '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n' >"$TMP/vocab.txt"
run "$BERTCTL" tokenize --tokenizer "$TMP/vocab.txt" <<<"Hello world"
assert_rc 0
assert_eq "tokens" "$OUT" "[CLS] hello world [SEP]"
assert_contains "note" "$ERR" "is a vocabulary with one token per line; reading it as one (--vocab)"

check "help alone lists the commands; -V and version print the version"
run "$BERTCTL" help
assert_rc 0
assert_contains "command list" "$OUT" "tokenize"
assert_contains "command list" "$OUT" "finetune"
run "$BERTCTL" -V
assert_rc 0
assert_contains "-V" "$OUT" "bertctl "
run "$BERTCTL" version --format json
assert_rc 0
assert_contains "version json" "$OUT" '"bertctl":'
assert_contains "version json" "$OUT" '"onednn":'

check "standard output that cannot be written: exit 1 and one line, --help and info included"
"$BERTCTL" init --layers 1 --hidden 32 --heads 2 --intermediate 64 --max-position 32 --vocab "$VOCAB" -o "$TMP/m.gguf" ||
  fail "init"
if [ -c /dev/full ] && [ -w /dev/full ]; then
  for args in "--help" "tokenize --help" "-V" "version" "info $TMP/m.gguf"; do
    run bash -c "\"$BERTCTL\" $args >/dev/full"
    assert_rc 1
    assert_contains "$args" "$ERR" "cannot write to standard output"
  done
else
  echo "note: no writable /dev/full here; that check did not run" >&2
fi

check "finetune --resume of a file that is no checkpoint exits 1, as its man page says"
run "$BERTCTL" finetune --resume "$TMP/m.gguf" --train "$SOURCE_DIR/testdata/example/reviews-train.csv" -o "$TMP/x.gguf"
assert_rc 1
assert_contains "message" "$ERR" "is not a training checkpoint"

check "a model file whose label is not UTF-8 is refused at load (GGUF has no checksum)"
"$BERTCTL" init --layers 1 --hidden 32 --heads 2 --intermediate 64 --max-position 32 --vocab "$VOCAB" \
  --labels "zzlabelone,zzlabeltwo" -o "$TMP/labels.gguf" || fail "init --labels"
at=$(grep -obUa "zzlabeltwo" "$TMP/labels.gguf" | head -1 | cut -d: -f1)
printf '\xff' | dd of="$TMP/labels.gguf" bs=1 seek=$((at + 2)) conv=notrunc status=none
run "$BERTCTL" info "$TMP/labels.gguf" --format json
assert_rc 1
assert_contains "label" "$ERR" "bertctl.labels entry 1 is not valid UTF-8"

finish
