#!/usr/bin/env bash
# Shell completion scripts come from the option definitions: bash completes commands, every long
# option of a command and the values of a choice option; zsh and fish scripts parse where those
# shells are installed.
source "$(dirname "$0")/lib.sh"

check "the bash script completes commands, options and choices"
run "$BERTCTL" completion bash
assert_rc 0
cp "$OUT_FILE" "$TMP/bertctl.bash"
if bash -n "$TMP/bertctl.bash"; then pass; else fail "bash -n failed"; fi
complete_words() {  # complete_words WORD... : what bash offers for the last word
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _bertctl; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$TMP/bertctl.bash" "$@"
}
assert_eq "tok" "$(complete_words bertctl tok)" "tokenize"
assert_eq "classify --format" "$(complete_words bertctl classify --format '' | sort | tr '\n' ' ')" "jsonl tsv "
offered=$(complete_words bertctl finetune --)
for cmd in tokenize encode classify finetune evaluate; do
  for opt in $("$BERTCTL" "$cmd" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
    if grep -qxF -- "$opt" <<<"$(complete_words bertctl "$cmd" --)"; then pass; else fail "$cmd: $opt not offered"; fi
  done
done
assert_contains "finetune options" "$offered" "--new-head"

check "the zsh and fish scripts parse (where those shells are installed)"
for shell in zsh fish; do
  run "$BERTCTL" completion "$shell"
  assert_rc 0
  if command -v "$shell" >/dev/null; then
    cp "$OUT_FILE" "$TMP/script.$shell"
    if "$shell" -n "$TMP/script.$shell"; then pass; else fail "$shell -n failed"; fi
  else
    echo "note: $shell is not installed; its script was not parsed" >&2
  fi
done
run "$BERTCTL" completion tcsh
assert_rc 2

finish
