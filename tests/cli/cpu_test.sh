#!/usr/bin/env bash
# `bertctl info --cpu` describes the machine and the kernels bertctl picks, and BERTCTL_MAX_ISA caps
# both bertctl's own code and oneDNN (a bad value is a usage error that names the variable).
source "$(dirname "$0")/lib.sh"

check "info --cpu in JSON"
run env -u BERTCTL_MAX_ISA -u ONEDNN_MAX_CPU_ISA "$BERTCTL" info --cpu --format json
assert_rc 0
for key in cpu has uses cap onednn f32_linear int8_linear int8_attention quantizer threads; do
  assert_contains "key $key" "$OUT" "\"$key\":"
done
assert_contains "no cap" "$OUT" '"cap":"none"'

check "BERTCTL_MAX_ISA=avx2 caps our code and oneDNN"
run env BERTCTL_MAX_ISA=avx2 "$BERTCTL" info --cpu --format json
assert_rc 0
assert_contains "cap" "$OUT" '"cap":"avx2 (BERTCTL_MAX_ISA)"'
assert_contains "uses no AVX-512" "$OUT" '"uses":["avx2"]'
assert_contains "oneDNN kernels" "$OUT" ', avx2 kernels'
assert_contains "7-bit activations without VNNI" "$OUT" '7-bit activations'
assert_contains "quantizer" "$OUT" '"quantizer":"avx2"'

check "ONEDNN_MAX_CPU_ISA alone caps our code as well"
run env -u BERTCTL_MAX_ISA ONEDNN_MAX_CPU_ISA=AVX2 "$BERTCTL" info --cpu --format json
assert_rc 0
assert_contains "cap" "$OUT" '"cap":"avx2 (ONEDNN_MAX_CPU_ISA)"'
assert_contains "quantizer" "$OUT" '"quantizer":"avx2"'

check "a bad BERTCTL_MAX_ISA is a usage error"
run env BERTCTL_MAX_ISA=avx3 "$BERTCTL" info --cpu
assert_rc 2
assert_contains "message" "$ERR" "BERTCTL_MAX_ISA=avx3: not an instruction-set level (one of: sse41, avx2"
assert_eq "one line" "$(wc -l <"$ERR_FILE")" "1"

check "info without a model or --cpu"
run "$BERTCTL" info
assert_rc 2
assert_contains "message" "$ERR" "give a model, or --cpu"

finish
