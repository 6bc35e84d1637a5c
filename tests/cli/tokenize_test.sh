#!/usr/bin/env bash
# bertctl tokenize, run as a real filter: formats, inputs, pairs, JSONL, truncation, padding, empty
# lines, order under threads, invalid UTF-8, usage errors, closed pipes, and the whole shared corpus.
source "$(dirname "$0")/lib.sh"

# A small vocabulary of our own, so most checks run without ../shared.
V=$TMP/vocab.txt
printf '%s\n' '[PAD]' '[UNK]' '[CLS]' '[SEP]' '[MASK]' hello , world '!' how old are you '?' i am six . \
  a b c d e caf '##e' line '##s' >"$V"
# ids:      0      1      2      3      4     5    6   7   8   9  10  11  12  13 14 15 16 17
#          18 19 20 21 22 23  24   25   26

check "default format: tokens, from standard input"
run "$BERTCTL" tokenize --vocab "$V" <<<"Hello, world!"
assert_rc 0
assert_eq "tokens" "$OUT" "[CLS] hello , world ! [SEP]"
assert_eq "stderr" "$ERR" ""

check "--format ids"
run "$BERTCTL" tokenize --vocab "$V" --format ids <<<"Hello, world!"
assert_eq "ids" "$OUT" "2 5 6 7 8 3"

check "--format jsonl with character and byte offsets"
run "$BERTCTL" tokenize --vocab "$V" --format jsonl <<<"Café, world"
assert_eq "jsonl" "$OUT" \
  '{"tokens":["[CLS]","caf","##e",",","world","[SEP]"],"ids":[2,23,24,6,7,3],"type_ids":[0,0,0,0,0,0],"offsets":[[0,0],[0,3],[3,4],[4,5],[6,11],[0,0]]}'
run "$BERTCTL" tokenize --vocab "$V" --format jsonl --offsets bytes <<<"Café, world"
assert_contains "byte offsets" "$OUT" '"offsets":[[0,0],[0,3],[3,5],[5,6],[7,12],[0,0]]'

check "files, '-' for standard input, several inputs in order"
printf 'a b\nc d\n' >"$TMP/in1.txt"
printf 'e\n' >"$TMP/in2.txt"
run "$BERTCTL" tokenize --vocab "$V" "$TMP/in1.txt" - "$TMP/in2.txt" <<<"hello"
assert_rc 0
assert_eq "inputs in order" "$OUT" $'[CLS] a b [SEP]\n[CLS] c d [SEP]\n[CLS] hello [SEP]\n[CLS] e [SEP]'
run "$BERTCTL" tokenize --vocab "$V" <"$TMP/in1.txt"
assert_eq "stdin = file" "$OUT" $'[CLS] a b [SEP]\n[CLS] c d [SEP]'

check "a last line without a newline is still a record"
printf 'a\nb' >"$TMP/nonl.txt"
run "$BERTCTL" tokenize --vocab "$V" --format ids "$TMP/nonl.txt"
assert_eq "last line" "$OUT" $'2 18 3\n2 19 3'

check "empty lines give empty records, never dropped ones"
printf 'a\n\n\nb\n' >"$TMP/empty.txt"
run "$BERTCTL" tokenize --vocab "$V" "$TMP/empty.txt"
assert_eq "with specials" "$(cat "$OUT_FILE")" $'[CLS] a [SEP]\n[CLS] [SEP]\n[CLS] [SEP]\n[CLS] b [SEP]'
run "$BERTCTL" tokenize --vocab "$V" --no-special-tokens "$TMP/empty.txt"
assert_eq "without specials" "$(od -c <"$OUT_FILE" | head -2)" "$(printf 'a\n\n\nb\n' | od -c | head -2)"
run "$BERTCTL" tokenize --vocab "$V" --format jsonl --no-special-tokens <<<""
assert_eq "empty jsonl record" "$OUT" '{"tokens":[],"ids":[],"type_ids":[],"offsets":[]}'

check "--pair: tab-separated texts, type ids"
run "$BERTCTL" tokenize --vocab "$V" --pair --format jsonl <<<$'How old are you?\tI am six.'
assert_rc 0
assert_contains "pair tokens" "$OUT" \
  '"tokens":["[CLS]","how","old","are","you","?","[SEP]","i","am","six",".","[SEP]"]'
assert_contains "pair type ids" "$OUT" '"type_ids":[0,0,0,0,0,0,0,1,1,1,1,1]'
assert_contains "offsets into each text" "$OUT" '"offsets":[[0,0],[0,3],[4,7],[8,11],[12,15],[15,16],[0,0],[0,1],[2,4],[5,8],[8,9],[0,0]]'
run "$BERTCTL" tokenize --vocab "$V" --pair <<<""
assert_eq "empty pair" "$OUT" "[CLS] [SEP] [SEP]"
run "$BERTCTL" tokenize --vocab "$V" --pair <<<"no tab here"
assert_rc 1
assert_eq "line without a tab" "$ERR" "bertctl: tokenize: <stdin>:1: expected two texts separated by a tab (--pair)"

check "--input-format jsonl, --text-field, --pair-field"
printf '%s\n' '{"text": "Hello, world!", "id": 1}' '' '{"text": "a\tb", "other": "c"}' >"$TMP/in.jsonl"
run "$BERTCTL" tokenize --vocab "$V" --input-format jsonl "$TMP/in.jsonl"
assert_rc 0
assert_eq "jsonl input" "$OUT" $'[CLS] hello , world ! [SEP]\n[CLS] [SEP]\n[CLS] a b [SEP]'
run "$BERTCTL" tokenize --vocab "$V" --input-format jsonl --text-field other <<<'{"other": "six"}'
assert_eq "--text-field" "$OUT" "[CLS] six [SEP]"
run "$BERTCTL" tokenize --vocab "$V" --input-format jsonl --pair --pair-field q <<<'{"text": "a", "q": "b c"}'
assert_eq "--pair-field" "$OUT" "[CLS] a [SEP] b c [SEP]"
run "$BERTCTL" tokenize --vocab "$V" --input-format jsonl "$TMP/in.jsonl" - <<<'{"txt": "x"}'
assert_rc 1
assert_eq "missing field: the earlier lines are printed" "$(wc -l <"$OUT_FILE")" "3"
assert_eq "missing field message" "$ERR" \
  'bertctl: tokenize: <stdin>:1: no string field "text" in this JSON line'
run "$BERTCTL" tokenize --vocab "$V" --input-format jsonl <<<'{"text": '
assert_rc 1
assert_contains "bad JSON" "$ERR" "bertctl: tokenize: <stdin>:1: invalid JSON"

check "--max-length truncates, --pad pads"
run "$BERTCTL" tokenize --vocab "$V" --max-length 4 <<<"a b c d e"
assert_eq "truncated" "$OUT" "[CLS] a b [SEP]"
run "$BERTCTL" tokenize --vocab "$V" --max-length 6 --pair <<<$'a b c d e\tc d e'
assert_eq "pair, longest first" "$OUT" "[CLS] a b [SEP] c [SEP]"
run "$BERTCTL" tokenize --vocab "$V" --max-length 6 --pad --format jsonl <<<"a"
assert_eq "padded" "$OUT" \
  '{"tokens":["[CLS]","a","[SEP]","[PAD]","[PAD]","[PAD]"],"ids":[2,18,3,0,0,0],"type_ids":[0,0,0,0,0,0],"offsets":[[0,0],[0,1],[0,0],[0,0],[0,0],[0,0]],"attention_mask":[1,1,1,0,0,0]}'

check "--lowercase / --no-lowercase override the vocabulary's setting"
run "$BERTCTL" tokenize --vocab "$V" --no-lowercase <<<"Hello hello"
assert_eq "no-lowercase" "$OUT" "[CLS] [UNK] hello [SEP]"
printf '%s\n' '[PAD]' '[UNK]' '[CLS]' '[SEP]' Hello hello >"$TMP/cased.txt"
run "$BERTCTL" tokenize --vocab "$TMP/cased.txt" <<<"Hello HELLO"
assert_eq "cased vocabulary: cased" "$OUT" "[CLS] Hello [UNK] [SEP]"
run "$BERTCTL" tokenize --vocab "$TMP/cased.txt" --lowercase <<<"Hello HELLO"
assert_eq "cased vocabulary, --lowercase" "$OUT" "[CLS] hello hello [SEP]"

check "invalid UTF-8: one-line error naming input and line, earlier lines printed, exit 1"
printf 'ok\nbad \xff here\nafter\n' >"$TMP/bad.txt"
run "$BERTCTL" tokenize --vocab "$V" "$TMP/bad.txt"
assert_rc 1
assert_eq "lines before the error" "$OUT" "[CLS] [UNK] [SEP]"
assert_eq "message" "$ERR" "bertctl: tokenize: $TMP/bad.txt:2: invalid UTF-8 at byte 4"
run "$BERTCTL" tokenize --vocab "$V" --threads 2 <"$TMP/bad.txt"
assert_rc 1
assert_eq "stdin, threads" "$ERR" "bertctl: tokenize: <stdin>:2: invalid UTF-8 at byte 4"
run "$BERTCTL" tokenize --vocab "$V" --on-error replace "$TMP/bad.txt"
assert_rc 0
assert_eq "--on-error replace" "$OUT" $'[CLS] [UNK] [SEP]\n[CLS] [UNK] [UNK] [SEP]\n[CLS] [UNK] [SEP]'

check "usage errors exit 2"
run "$BERTCTL" tokenize <<<"x"
assert_rc 2
assert_contains "no vocabulary" "$ERR" "no vocabulary: give --vocab FILE, --tokenizer FILE or -m MODEL"
run "$BERTCTL" tokenize --vocab "$V" -m "$TMP" <<<"x"
assert_rc 2
run "$BERTCTL" tokenize --vocab "$V" --format nosuch <<<"x"
assert_rc 2
run "$BERTCTL" tokenize --vocab "$V" --max-length 0 <<<"x"
assert_rc 2
run "$BERTCTL" tokenize --vocab "$V" --max-length 2 --pair <<<"x"
assert_rc 2
assert_contains "too short" "$ERR" "--max-length 2 leaves no room"
run "$BERTCTL" tokenize --vocab "$V" --pad <<<"x"
assert_rc 2
run "$BERTCTL" tokenize --vocab "$V" --no-such-flag <<<"x"
assert_rc 2

check "runtime errors exit 1"
run "$BERTCTL" tokenize --vocab "$TMP/nosuch.txt" <<<"x"
assert_rc 1
assert_contains "missing vocabulary" "$ERR" "cannot open $TMP/nosuch.txt"
run "$BERTCTL" tokenize --vocab "$V" "$TMP/nosuch-input.txt"
assert_rc 1

check "help"
run "$BERTCTL" help tokenize
assert_rc 0
assert_contains "help text" "$OUT" "--max-length"

check "order is kept with --threads 2 on a large input"
awk 'BEGIN { for (i = 1; i <= 200000; i++) printf "line %d: a b, c%s\n", i, (i % 7 ? "" : " hello") }' >"$TMP/big.txt"
run "$BERTCTL" tokenize --vocab "$V" --format ids --threads 1 "$TMP/big.txt"
cp "$OUT_FILE" "$TMP/big1.out"
run "$BERTCTL" tokenize --vocab "$V" --format ids --threads 2 "$TMP/big.txt"
assert_rc 0
assert_files_equal "threads 1 vs 2" "$TMP/big1.out" "$OUT_FILE"
assert_eq "one record per line" "$(wc -l <"$OUT_FILE")" "200000"
# Every 7th line ends in "hello" (id 5); batches hold 1024 lines, so a batch out of place shows.
awk '{ print (/ 5 /) ? 1 : 0 }' "$OUT_FILE" >"$TMP/hello.got"
awk 'BEGIN { for (i = 1; i <= 200000; i++) print (i % 7 ? 0 : 1) }' >"$TMP/hello.want"
assert_files_equal "every 7th line has hello" "$TMP/hello.got" "$TMP/hello.want"
assert_eq "last record: line 200000" "$(tail -n 1 "$OUT_FILE")" "2 25 1 1 18 19 6 20 3"

check "a closed pipe ends the run quietly with exit 0"
"$BERTCTL" tokenize --vocab "$V" --threads 2 "$TMP/big.txt" 2>"$ERR_FILE" | head -1 >"$OUT_FILE"
RC=${PIPESTATUS[0]}
assert_rc 0
assert_eq "first line" "$(cat "$OUT_FILE")" "[CLS] line [UNK] [UNK] a b , c [SEP]"
assert_eq "no message" "$(cat "$ERR_FILE")" ""

# ---- with the shared data: the real vocabularies and the reference fixtures.
if need_shared vocab/bert-base-uncased.txt && need_shared fixtures/tiny-uncased-mlm; then
  UNCASED=$BERTCTL_SHARED/vocab/bert-base-uncased.txt
  CASED=$BERTCTL_SHARED/vocab/bert-base-cased.txt

  check "bert-base-uncased ids, and the same from -m and --tokenizer"
  run "$BERTCTL" tokenize --vocab "$UNCASED" --format ids <<<"Hello, world!"
  assert_eq "vocab.txt" "$OUT" "101 7592 1010 2088 999 102"
  run "$BERTCTL" tokenize -m "$BERTCTL_SHARED/fixtures/tiny-uncased-mlm" --format ids <<<"Hello, world!"
  assert_eq "-m checkpoint" "$OUT" "101 7592 1010 2088 999 102"
  run "$BERTCTL" tokenize --tokenizer "$BERTCTL_SHARED/vocab/bert-base-uncased-hf/tokenizer.json" --format ids \
    <<<"Hello, world!"
  assert_eq "--tokenizer" "$OUT" "101 7592 1010 2088 999 102"

  check "a reference pair (fixtures pair 0, uncased)"
  run "$BERTCTL" tokenize --vocab "$UNCASED" --pair --format ids <<<$'How old are you?\tI am six years old.'
  assert_eq "pair ids" "$OUT" "101 2129 2214 2024 2017 1029 102 1045 2572 2416 2086 2214 1012 102"

  check "cased vocabulary"
  run "$BERTCTL" tokenize --vocab "$CASED" <<<"The café in Paris"
  assert_eq "cased tokens" "$OUT" "[CLS] The café in Paris [SEP]"

  check "the whole shared corpus, both vocabularies: one record per line, no error"
  mapfile -t FILES < <(find "$BERTCTL_SHARED/corpus" -type f | sort)
  want=0
  for f in "${FILES[@]}"; do want=$((want + $(count_lines "$f"))); done
  for vocab in "$UNCASED" "$CASED"; do
    run "$BERTCTL" tokenize --vocab "$vocab" --format ids "${FILES[@]}"
    assert_rc 0
    assert_eq "stderr ($vocab)" "$ERR" ""
    got=$(wc -l <"$OUT_FILE")
    if [ "$got" -eq "$want" ]; then
      pass
    else
      fail "$vocab: $got records for $want lines in ${#FILES[@]} files"
      for f in "${FILES[@]}"; do  # name the file(s)
        n=$("$BERTCTL" tokenize --vocab "$vocab" --format ids "$f" | wc -l)
        [ "$n" -eq "$(count_lines "$f")" ] || echo "  $f: $n records for $(count_lines "$f") lines" >&2
      done
    fi
  done
  echo "corpus: ${#FILES[@]} files, $want lines, tokenized with both vocabularies"
fi

finish
