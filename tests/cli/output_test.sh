#!/usr/bin/env bash
# -o PATH: a regular file is replaced atomically (with -f); a symlink's target is replaced and the link
# kept; a device, FIFO or /dev/stdout is written straight into (no -f needed, never turned into a
# file); -o - is standard output for every format, npy included.
source "$(dirname "$0")/lib.sh"

VOCAB=$SOURCE_DIR/vocab/example-vocab.txt
MODEL=$TMP/model.gguf
"$BERTCTL" init --layers 1 --hidden 32 --heads 2 --intermediate 64 --max-position 32 --vocab "$VOCAB" -o "$MODEL" ||
  fail "init"
printf 'the kettle is fine\na second line\nand a third\n' >"$TMP/in.txt"

check "encode -o /dev/full fails naming it, and /dev/full stays a device"
if [ -c /dev/full ] && [ -w /dev/full ]; then
  for fmt in npy jsonl; do
    run "$BERTCTL" encode -m "$MODEL" --format "$fmt" -o /dev/full -f "$TMP/in.txt"
    if [ "$RC" -ne 0 ]; then pass; else fail "$fmt to /dev/full exited 0"; fi
    assert_contains "message ($fmt)" "$ERR" "/dev/full"
    if [ -c /dev/full ]; then pass; else fail "/dev/full is no longer a character device"; fi
  done
else
  echo "note: no writable /dev/full here; that check did not run" >&2
fi

check "a device needs no --force and is written into"
run "$BERTCTL" encode -m "$MODEL" --format npy -o /dev/null "$TMP/in.txt"
assert_rc 0
if [ -c /dev/null ]; then pass; else fail "/dev/null is no longer a character device"; fi

check "-o - and -o /dev/stdout write standard output (npy through a pipe too)"
"$BERTCTL" encode -m "$MODEL" --format npy -o "$TMP/file.npy" "$TMP/in.txt" || fail "npy to a file"
run "$BERTCTL" encode -m "$MODEL" --format npy -o - "$TMP/in.txt"
assert_rc 0
"$BERTCTL" encode -m "$MODEL" --format npy -o - "$TMP/in.txt" | cat >"$TMP/piped.npy"
assert_files_equal "npy through a pipe" "$TMP/file.npy" "$TMP/piped.npy"
"$BERTCTL" encode -m "$MODEL" --format npy -o - "$TMP/in.txt" >"$TMP/redirected.npy"
assert_files_equal "npy to a redirected stdout" "$TMP/file.npy" "$TMP/redirected.npy"
run "$BERTCTL" encode -m "$MODEL" --format jsonl -o /dev/stdout "$TMP/in.txt"
assert_rc 0
assert_eq "jsonl lines" "$(count_lines "$OUT_FILE")" 3
"$BERTCTL" init --layers 1 --hidden 32 --heads 2 --intermediate 64 --max-position 32 --vocab "$VOCAB" -o - >"$TMP/stdout.gguf" ||
  fail "init -o -"
run "$BERTCTL" info "$TMP/stdout.gguf"
assert_rc 0

check "a named pipe stays a pipe and its reader gets the output"
mkfifo "$TMP/fifo"
cat "$TMP/fifo" >"$TMP/from-fifo" &
reader=$!
run "$BERTCTL" encode -m "$MODEL" --format npy -o "$TMP/fifo" "$TMP/in.txt"
assert_rc 0
wait "$reader"
if [ -p "$TMP/fifo" ]; then pass; else fail "the FIFO was replaced"; fi
assert_files_equal "npy through a FIFO" "$TMP/file.npy" "$TMP/from-fifo"

check "a symlink stays a link; its target is replaced"
mkdir "$TMP/real"
echo old >"$TMP/real/target.gguf"
ln -s real/target.gguf "$TMP/link.gguf"
run "$BERTCTL" init --layers 1 --hidden 32 --heads 2 --intermediate 64 --max-position 32 --vocab "$VOCAB" -o "$TMP/link.gguf"
if [ "$RC" -eq 2 ]; then pass; else fail "overwriting a link's target without -f: exit $RC"; fi
run "$BERTCTL" init --layers 1 --hidden 32 --heads 2 --intermediate 64 --max-position 32 --vocab "$VOCAB" -o "$TMP/link.gguf" -f
assert_rc 0
if [ -L "$TMP/link.gguf" ]; then pass; else fail "the link was replaced by a file"; fi
run "$BERTCTL" info "$TMP/real/target.gguf"
assert_rc 0
ln -s real/new.npy "$TMP/dangling.npy"
run "$BERTCTL" encode -m "$MODEL" --format npy -o "$TMP/dangling.npy" "$TMP/in.txt"
assert_rc 0
if [ -L "$TMP/dangling.npy" ]; then pass; else fail "the dangling link was replaced by a file"; fi
assert_files_equal "written where the dangling link points" "$TMP/file.npy" "$TMP/real/new.npy"
if [ -z "$(find "$TMP" "$TMP/real" -maxdepth 1 -name '.*.tmp*')" ]; then pass; else fail "a temporary was left behind"; fi

check "a temporary of a process killed outright is removed by the next write to that path"
dead=$(sh -c 'echo $$')  # a process that has exited: its id names no process now
mkdir -p "$TMP/stale"
head -c 100000 /dev/zero >"$TMP/stale/.m.gguf.tmp.$dead.123456"
: >"$TMP/stale/.m.gguf.tmp.$$.654321"  # this shell is alive: a write in progress, kept
: >"$TMP/stale/.other.gguf.tmp.$dead.1"  # another file's: not ours to judge now
run "$BERTCTL" init --layers 1 --hidden 32 --heads 2 --intermediate 64 --max-position 32 --vocab "$VOCAB" -o "$TMP/stale/m.gguf"
assert_rc 0
assert_eq "what is left" "$(cd "$TMP/stale" && ls -A | sort | tr '\n' ' ')" ".m.gguf.tmp.$$.654321 .other.gguf.tmp.$dead.1 m.gguf "

check "convert --to hf that runs out of space leaves no folder behind"
( trap '' XFSZ; ulimit -f 8; exec "$BERTCTL" convert "$MODEL" --to hf -o "$TMP/hf-full" ) >"$OUT_FILE" 2>"$ERR_FILE"
RC=$?
ERR=$(cat "$ERR_FILE")
assert_rc 1
assert_contains "the cause" "$ERR" "File too large"
if [ ! -e "$TMP/hf-full" ]; then pass; else fail "a partial folder was left: $(ls -A "$TMP/hf-full")"; fi

finish
