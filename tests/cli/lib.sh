# Helpers shared by the CLI tests (tests/cli/*_test.sh). Source it, run checks, end with `finish`.
#
#   source "$(dirname "$0")/lib.sh"
#   run "$BERTCTL" tokenize --vocab "$V" <<< "Hello"     # sets OUT, ERR (files: $OUT_FILE, $ERR_FILE), RC
#   assert_rc 0 && assert_eq "tokens" "$OUT" "[CLS] hello [SEP]"
#   finish                                               # prints "N passed, M failed"; exit 1 on failure
#
# Environment (set by CTest): BERTCTL = the binary, SOURCE_DIR = the repository, BERTCTL_SHARED = the
# shared data folder (tests that need it call need_shared, which marks the script as skipped, exit
# code 77, when it is absent and nothing failed).
set -u

: "${BERTCTL:?set BERTCTL to the bertctl binary}"
SOURCE_DIR=${SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BERTCTL_SHARED=${BERTCTL_SHARED:-$SOURCE_DIR/../shared}

PASSED=0
FAILED=0
SKIPPED_PARTS=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bertctl-cli.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
OUT_FILE=$TMP/stdout
ERR_FILE=$TMP/stderr
OUT=""
ERR=""
RC=0

# The name of the check in progress, printed with failures.
CHECK_NAME=""
check() { CHECK_NAME=$*; }

pass() { PASSED=$((PASSED + 1)); }
fail() {
  FAILED=$((FAILED + 1))
  echo "FAIL${CHECK_NAME:+ [$CHECK_NAME]}: $*" >&2
  return 1
}

# run CMD...: runs a command (stdin as given to run), capturing stdout, stderr and the exit code.
run() {
  "$@" >"$OUT_FILE" 2>"$ERR_FILE"
  RC=$?
  OUT=$(cat "$OUT_FILE")
  ERR=$(cat "$ERR_FILE")
  return 0
}

assert_rc() {  # assert_rc WANT
  if [ "$RC" -eq "$1" ]; then pass; else fail "exit code $RC, want $1; stderr: $ERR"; fi
}

assert_eq() {  # assert_eq WHAT GOT WANT
  if [ "$2" == "$3" ]; then
    pass
  else
    fail "$1: got"$'\n'"$2"$'\n'"want"$'\n'"$3"
  fi
}

assert_contains() {  # assert_contains WHAT HAYSTACK NEEDLE
  case "$2" in
    *"$3"*) pass ;;
    *) fail "$1: \"$2\" does not contain \"$3\"" ;;
  esac
}

assert_files_equal() {  # assert_files_equal WHAT FILE1 FILE2
  if cmp -s "$2" "$3"; then pass; else fail "$1: $2 and $3 differ: $(cmp "$2" "$3" 2>&1 | head -1)"; fi
}

# Lines a line-oriented tool sees in a file: every '\n', plus a last line without one.
count_lines() {
  local n
  n=$(wc -l <"$1")
  if [ -s "$1" ] && [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" != '\n' ]; then n=$((n + 1)); fi
  echo "$n"
}

# need_shared REL: true when $BERTCTL_SHARED/REL exists; otherwise notes a skipped part.
need_shared() {
  if [ -e "$BERTCTL_SHARED/$1" ]; then return 0; fi
  echo "SKIPPED part: $BERTCTL_SHARED/$1 not found (set BERTCTL_SHARED)" >&2
  SKIPPED_PARTS=$((SKIPPED_PARTS + 1))
  return 1
}

finish() {
  echo "$PASSED passed, $FAILED failed"
  if [ "$FAILED" -gt 0 ]; then exit 1; fi
  if [ "$SKIPPED_PARTS" -gt 0 ]; then exit 77; fi
  exit 0
}
