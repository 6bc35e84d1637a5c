#!/usr/bin/env bash
# Help and manual pages agree: every subcommand that `bertctl --help` lists has man/bertctl-<cmd>.1,
# every long option `bertctl <cmd> --help` shows is in that page, and every long option in the page's
# OPTIONS section exists. The same holds for `bertctl --help` and man/bertctl.1, which also names
# every subcommand. Written over whatever the binary lists, so new subcommands are covered as they land.
source "$(dirname "$0")/lib.sh"

MAN=$SOURCE_DIR/man

# Long options in text (roff escapes removed): one per line, sorted, unique.
long_options() { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' | grep -oE -- '--[a-zA-Z0-9][a-zA-Z0-9-]*' | sort -u; }
# The OPTIONS section of a roff page, up to the next .SH.
options_section() { awk '/^\.SH /{ on = ($2 == "OPTIONS") ; next } on' "$1"; }

# The page renders without roff warnings (when man is installed).
check_renders() {
  command -v man >/dev/null 2>&1 || return 0
  local warnings
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null)
  assert_eq "man --warnings $1" "$warnings" ""
}

# compare_options PAGE HELP_TEXT: both directions.
compare_options() {
  local page=$1 help=$2 opt
  local in_help in_page in_section
  in_help=$(long_options <<<"$help")
  in_page=$(long_options <"$page")
  in_section=$(options_section "$page" | long_options)
  if [ -z "$in_section" ]; then fail "$page: no long options in an OPTIONS section"; fi
  for opt in $in_help; do
    if grep -qxF -- "$opt" <<<"$in_page"; then pass; else fail "$page does not document $opt"; fi
  done
  for opt in $in_section; do
    if grep -qxF -- "$opt" <<<"$in_help"; then pass; else fail "$page documents $opt, which --help does not list"; fi
  done
}

check "bertctl --help lists subcommands"
run "$BERTCTL" --help
assert_rc 0
top_help=$OUT
mapfile -t COMMANDS < <(awk '/^Subcommands:/{ on = 1; next } on && /^  [a-z]/{ print $1 }' <<<"$top_help")
if [ "${#COMMANDS[@]}" -gt 0 ]; then pass; else fail "no subcommands found in bertctl --help"; fi

check "man/bertctl.1"
if [ -f "$MAN/bertctl.1" ]; then
  pass
  compare_options "$MAN/bertctl.1" "$top_help"
  section=$(awk '/^\.SH /{ on = ($2 == "COMMANDS"); next } on' "$MAN/bertctl.1" | sed -e 's/\\-/-/g')
  for cmd in "${COMMANDS[@]}"; do
    if grep -qE "^\.BI? $cmd( |$)" <<<"$section"; then pass; else fail "bertctl.1 COMMANDS does not list $cmd"; fi
  done
  for name in "EXIT STATUS" ENVIRONMENT FILES; do assert_contains "bertctl.1 sections" "$(cat "$MAN/bertctl.1")" ".SH $name"; done
  check_renders "$MAN/bertctl.1"
else
  fail "man/bertctl.1 is missing"
fi

for cmd in "${COMMANDS[@]}"; do
  [ "$cmd" = help ] && continue  # `bertctl help CMD` is described in bertctl.1
  check "man/bertctl-$cmd.1"
  page=$MAN/bertctl-$cmd.1
  if [ ! -f "$page" ]; then
    fail "man/bertctl-$cmd.1 is missing"
    continue
  fi
  pass
  run "$BERTCTL" "$cmd" --help
  assert_rc 0
  compare_options "$page" "$OUT"
  assert_contains "$cmd page has EXIT STATUS" "$(cat "$page")" ".SH EXIT STATUS"
  check_renders "$page"
done

finish
