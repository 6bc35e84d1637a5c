#!/usr/bin/env bash
# The benchmark harness (not a test): builds a Release bertctl with the bench programs, measures
# bertctl, and — when ../shared/bench/peers.sh setup has installed them — ONNX Runtime, PyTorch and
# Hugging Face tokenizers on the same shapes and weights in the same run, plus oneDNN's own matmul
# rate on the model's shapes. Prints one JSON line per measurement and a table of ratios at the end.
#
# usage: bench/run.sh [SECTION...]     sections: tok base int8 minilm text tasks start train (default: all)
# The machine comes first (bertctl info --cpu and the CPU's flags), and before each forward shape the
# oneDNN kernels its steady state runs, so a figure always says what made it. BERTCTL_MAX_ISA caps
# bertctl (not ONNX Runtime or PyTorch) as everywhere.
# env:   BERTCTL_SHARED (../shared), PEERS_DIR (~/.cache/bertctl-peers), THREADS (default 2),
#        MIN_TIME (seconds per shape and round, default 3), ROUNDS (interleaved rounds of bertctl and
#        ONNX Runtime per shape, default 3), BUILD (build directory, default build-bench),
#        TASK_LINES (inputs of the tasks section, default 512)
# Run it on a quiet machine; compare the ratios it prints (measured back to back), not absolutes.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${BERTCTL_SHARED:-$repo/../shared}
peers=${PEERS_DIR:-$HOME/.cache/bertctl-peers}
threads=${THREADS:-2}
min_time=${MIN_TIME:-3}
rounds=${ROUNDS:-3}  # interleaved rounds of bertctl and ONNX Runtime per shape
build=${BUILD:-$repo/build-bench}
work=$build/bench-data
sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=(tok base int8 minilm text tasks start train)
has() { local s; for s in "${sections[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
log() { echo "bench: $*" >&2; }
results=$work/results.jsonl

# ---- build -------------------------------------------------------------------------------------
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBERTCTL_BUILD_BENCH=ON -DBERTCTL_BUILD_TESTS=OFF \
  >/dev/null || exit 1
cmake --build "$build" --target bertctl bench_forward bench_train >/dev/null || exit 1
bertctl=$build/cmd/bertctl
mkdir -p "$work"
: >"$results"
emit() { echo "$1" | tee -a "$results"; }  # one JSON line
field() { grep -oE "\"$2\": ?[-0-9.e]+" <<<"$1" | head -1 | sed -E 's/.*: ?//'; }

peer_ort=false peer_torch=false peer_tok=false
[ -d "$peers/node_modules/onnxruntime-node" ] && [ -f "$peers/models/bert_base.onnx" ] && peer_ort=true
[ -f "$peers/models/bert_base_state_dict.pt" ] && /usr/bin/python3 -c 'import torch' 2>/dev/null && peer_torch=true
[ -d "$peers/node_modules/tokenizers" ] && peer_tok=true
$peer_ort || log "ONNX Runtime not installed (run $shared/bench/peers.sh setup): no ORT ratios"
openblas=$peers/openblas-omp/usr/lib/x86_64-linux-gnu/openblas-openmp

# ---- the machine: every figure says what made it ------------------------------------------------------
emit "$("$bertctl" info --cpu --format json | sed 's/^{/{"bench":"machine",/')"
flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx|fma|f16c|amx)' | sort -u | paste -sd' ')
emit "{\"bench\":\"cpu-flags\",\"flags\":\"$flags\"}"

# kernels MODEL SHAPE: oneDNN's implementation of each primitive the steady forward runs (its verbose
# log after bench_forward's mark), as "kind impl xCOUNT" pairs; the impl names the ISA (jit:avx2, brg:avx512_core_vnni).
kernels() {
  local list
  list=$(ONEDNN_VERBOSE=1 "$build/bench/bench_forward" "$1" --threads "$threads" --shapes "$2" --min-time 0 2>/dev/null |
    awk '/^bench_forward: steady/ { on = 1; next } on && /^onednn_verbose,exec/ { split($0, f, ","); n[f[4] " " f[5]]++ }
         END { for (k in n) printf "%s%s x%d", (c++ ? ", " : ""), k, n[k] }')
  emit "{\"bench\":\"kernels\",\"model\":\"$(basename "$1")\",\"shape\":\"$2\",\"kernels\":\"$list\"}"
}

# ---- models --------------------------------------------------------------------------------------
vocab=$shared/vocab/bert-base-uncased.txt
base=$work/bert-base.gguf base8=$work/bert-base-int8.gguf minilm=$work/minilm.gguf
if [ ! -f "$base" ]; then
  if [ -f "$peers/models/bert-base-random/config.json" ]; then  # the peers' weights: same model for everyone
    "$bertctl" convert "$peers/models/bert-base-random" -o "$base" -q || exit 1
  else
    "$bertctl" init --vocab "$vocab" -o "$base" || exit 1
  fi
fi
[ -f "$base8" ] || "$bertctl" convert "$base" -o "$base8" --dtype int8 || exit 1
[ -f "$minilm" ] || "$bertctl" init --layers 6 --hidden 384 --heads 12 --intermediate 1536 --vocab "$vocab" -o "$minilm" ||
  exit 1

# ---- oneDNN's matmul rate on the model's linear shapes -----------------------------------------------
peak_bin=$build/dnnl_peak
[ -x "$peak_bin" ] || g++ -O2 -std=c++17 -fopenmp -o "$peak_bin" "$shared/bench/dnnl_peak.cpp" -ldnnl 2>/dev/null
# peak DTYPE M: FLOP-weighted rate of one BERT-base layer's linears (4 × 768², 768×3072, 3072×768).
peak() {
  local dt=$1 m=$2
  OMP_NUM_THREADS=$threads "$peak_bin" --no-probe --M "$m" --samples 5 --min-time 0.3 2>/dev/null |
    awk -F, -v dt="$dt" '$1 == "matmul" && $2 == dt {
      w = ($5 == 768 && $6 == 768) ? 4 : 1; f = 2 * $4 * $5 * $6 * w; flops += f; t += f / ($10 * 1e9) }
      END { if (t > 0) printf "%.1f", flops / t / 1e9 }'
}

# ---- forward on fixed shapes ---------------------------------------------------------------------------
# forward MODEL DTYPE ONNX SHAPES: per shape, $rounds rounds of bertctl then ONNX Runtime back to back.
# This machine's speed drifts by a fifth from one minute to the next; a ratio is only as good as the
# time between its two halves, so the summary gives the median of the rounds' ratios.
forward() {
  local model=$1 dt=$2 onnx=$3 shapes=$4 shape r line
  for shape in ${shapes//,/ }; do
    kernels "$model" "$shape"
    for ((r = 1; r <= rounds; r++)); do
      line=$("$build/bench/bench_forward" "$model" --threads "$threads" --shapes "$shape" --min-time "$min_time")
      emit "${line%\}},\"round\":$r,\"model\":\"$(basename "$model")\"}"
      if $peer_ort && [ -n "$onnx" ]; then
        line=$(NODE_PATH=$peers/node_modules node "$shared/bench/ort_bench.mjs" --model "$onnx" --threads "$threads" \
          --shapes "$shape" --runs 5 --min-time "$min_time" 2>/dev/null | grep '^{' | head -1)
        [ -n "$line" ] && emit "${line%\}},\"round\":$r}"
      fi
      # The matmul peak on the same rows, in the same round (nothing may run beside a measurement).
      local m=$((${shape%x*} * ${shape#*x})) p
      p=$(peak "$([ "$dt" = int8 ] && echo u8s8s32 || echo f32)" "$m")
      emit "{\"bench\":\"matmul-peak\",\"dtype\":\"$dt\",\"rows\":$m,\"gops\":${p:-null},\"round\":$r}"
    done
  done
}
has base && forward "$base" f32 "$peers/models/bert_base.onnx" 1x128,8x128,32x128,1x512
has int8 && forward "$base8" int8 "$peers/models/bert_base_int8.onnx" 1x128,8x128,32x128
has minilm && forward "$minilm" f32 "" 32x32
if has base && $peer_torch; then
  for sh in 1x128 8x128 32x128; do
    out=$(LD_LIBRARY_PATH=$openblas /usr/bin/python3 "$shared/bench/bert_torch.py" infer --threads "$threads" \
      --batch "${sh%x*}" --seq "${sh#*x}" --runs 3 --label openblas-omp 2>/dev/null)
    emit "$out"
  done
fi

# ---- real text: lines of the English corpus, 32 per batch, as a user pipes them ----------------------
# Every 113th non-empty line of all 35 books (prose, verse, plays): about 4,100 lines of mixed length.
if has text; then
  lines=$work/text-lines.txt
  [ -f "$lines" ] || cat "$shared"/corpus/english/*.txt | tr -d '\r' | grep -v '^[[:space:]]*$' |
    awk 'NR % 113 == 0' >"$lines"
  n=$(wc -l <"$lines")
  if $peer_ort; then
    # ONNX Runtime as its pipelines feed it: each batch of 32 consecutive lines padded to its longest.
    shapes=$("$bertctl" tokenize --vocab "$vocab" --format ids --max-length 128 "$lines" |
      awk '{ if (NF > mx) mx = NF } NR % 32 == 0 { print mx; mx = 0 } END { if (NR % 32) print mx }' |
      sort -n | uniq -c | awk '{ printf "%s%d:%d", (NR > 1 ? "," : ""), $2, $1 }')
    distinct=$(tr ',' '\n' <<<"$shapes" | cut -d: -f1 | awk '{ printf "%s32x%d", (NR > 1 ? "," : ""), $1 }')
  fi
  # Interleaved rounds, as for the fixed shapes.
  for ((r = 1; r <= rounds; r++)); do
    for model in "$base" "$base8"; do
      start=$(date +%s.%N)
      "$bertctl" encode -m "$model" -b 32 -t "$threads" --max-length 128 "$lines" >/dev/null 2>&1
      end=$(date +%s.%N)
      emit "$(awk -v n="$n" -v s="$start" -v e="$end" -v m="$(basename "$model")" -v r="$r" 'BEGIN {
        printf "{\"impl\":\"bertctl\",\"bench\":\"real-text\",\"model\":\"%s\",\"lines\":%d,\"seconds\":%.3f,\"seq_per_s\":%.3f,\"round\":%d}", m, n, e - s, n / (e - s), r }')"
    done
    if $peer_ort; then
      times=$(NODE_PATH=$peers/node_modules node "$shared/bench/ort_bench.mjs" --model "$peers/models/bert_base.onnx" \
        --threads "$threads" --shapes "$distinct" --runs 3 --min-time 0 --warmup 1 2>/dev/null |
        sed -E 's/.*"seq":([0-9]+).*"median_ms":([0-9.]+).*/\1 \2/')
      total=$(awk -v shapes="$shapes" 'BEGIN { n = split(shapes, a, ","); for (i = 1; i <= n; i++) { split(a[i], b, ":"); c[b[1]] = b[2] } }
        { t += c[$1] * $2 } END { printf "%.3f", t / 1000 }' <<<"$times")
      emit "{\"peer\":\"onnxruntime-node\",\"bench\":\"real-text\",\"lines\":$n,\"seconds\":$total,\"seq_per_s\":$(awk -v n="$n" -v t="$total" 'BEGIN { printf "%.3f", n / t }'),\"round\":$r}"
    fi
  done
fi

# ---- ner and qa on BERT-base shapes: the whole command (tokenizing, windows, decoding, output) -------
# ner: the first TASK_LINES (default 512) corpus lines of `text`, windows of 512; qa: the first
# TASK_LINES / 2 of XQuAD-en's questions with their contexts, windows of 384 sharing 128. ONNX Runtime runs the same encoder on the batches these make (32
# windows padded to the longest); its decoding (argmax and grouping, span search) is not counted, so
# the ratio favours it. Weights are random: speed does not depend on them.
if has tasks; then
  ner=$work/bert-base-ner.gguf qa=$work/bert-base-qa.gguf
  [ -f "$ner" ] || "$bertctl" init --vocab "$vocab" --task token-classification \
    --labels O,B-PER,I-PER,B-ORG,I-ORG,B-LOC,I-LOC,B-MISC,I-MISC -o "$ner" >/dev/null
  [ -f "$qa" ] || "$bertctl" init --vocab "$vocab" --task question-answering -o "$qa" >/dev/null
  task_lines=${TASK_LINES:-512}
  all_lines=$work/text-lines.txt lines=$work/ner-lines.txt
  [ -f "$all_lines" ] || cat "$shared"/corpus/english/*.txt | tr -d '\r' | grep -v '^[[:space:]]*$' |
    awk 'NR % 113 == 0' >"$all_lines"
  head -n "$task_lines" "$all_lines" >"$lines"
  all_pairs=$work/xquad-pairs.txt pairs=$work/qa-pairs.txt
  [ -f "$all_pairs" ] || python3 -c 'import json,sys
for a in json.load(open(sys.argv[1]))["data"]:
  for p in a["paragraphs"]:
    for q in p["qas"]: print(q["question"].replace("\t"," ") + "\t" + p["context"].replace("\t"," ").replace("\n"," "))' \
    "$shared/data/qa/xquad/xquad.en.json" >"$all_pairs"
  head -n "$((task_lines / 2))" "$all_pairs" >"$pairs"
  # batch_shapes FILE ARGS...: "T:count,..." of batches of 32 consecutive inputs padded to the longest.
  batch_shapes() {
    local f=$1; shift
    "$bertctl" tokenize --vocab "$vocab" --format ids "$@" "$f" |
      awk '{ if (NF > mx) mx = NF } NR % 32 == 0 { print mx; mx = 0 } END { if (NR % 32) print mx }' |
      sort -n | uniq -c | awk '{ printf "%s%d:%d", (NR > 1 ? "," : ""), $2, $1 }'
  }
  ort_seconds() {  # SHAPES: ONNX Runtime's time for those batches
    local shapes=$1 distinct times
    distinct=$(tr ',' '\n' <<<"$shapes" | cut -d: -f1 | awk '{ printf "%s32x%d", (NR > 1 ? "," : ""), $1 }')
    times=$(NODE_PATH=$peers/node_modules node "$shared/bench/ort_bench.mjs" --model "$peers/models/bert_base.onnx" \
      --threads "$threads" --shapes "$distinct" --runs 3 --min-time 0 --warmup 1 2>/dev/null |
      sed -E 's/.*"seq":([0-9]+).*"median_ms":([0-9.]+).*/\1 \2/')
    awk -v shapes="$shapes" 'BEGIN { n = split(shapes, a, ","); for (i = 1; i <= n; i++) { split(a[i], b, ":"); c[b[1]] = b[2] } }
      { t += c[$1] * $2 } END { printf "%.3f", t / 1000 }' <<<"$times"
  }
  ner_shapes=$(batch_shapes "$lines" --max-length 512)
  qa_shapes=$(batch_shapes "$pairs" --pair --max-length 384)
  for ((r = 1; r <= rounds; r++)); do
    for task in ner qa; do
      if [ $task = ner ]; then cmd=(ner -m "$ner" "$lines"); input=$lines shapes=$ner_shapes
      else cmd=(qa -m "$qa" --max-length 384 "$pairs"); input=$pairs shapes=$qa_shapes; fi
      n=$(wc -l <"$input")
      start=$(date +%s.%N)
      "$bertctl" "${cmd[@]}" -b 32 -t "$threads" >/dev/null 2>&1
      end=$(date +%s.%N)
      emit "$(awk -v n="$n" -v s="$start" -v e="$end" -v t="$task" -v r="$r" 'BEGIN {
        printf "{\"impl\":\"bertctl\",\"bench\":\"%s\",\"lines\":%d,\"seconds\":%.3f,\"seq_per_s\":%.3f,\"round\":%d}", t, n, e - s, n / (e - s), r }')"
      if $peer_ort; then
        total=$(ort_seconds "$shapes")
        emit "{\"peer\":\"onnxruntime-node\",\"bench\":\"$task\",\"lines\":$n,\"seconds\":$total,\"seq_per_s\":$(awk -v n="$n" -v t="$total" 'BEGIN { printf "%.3f", n / t }'),\"round\":$r}"
      fi
    done
  done
fi

# ---- start-up: process start to the first output line of classify, one line ---------------------------
if has start; then
  cls=$work/bert-base-cls.gguf cls8=$work/bert-base-cls-int8.gguf
  [ -f "$cls" ] || "$bertctl" init --vocab "$vocab" --labels negative,positive -o "$cls" >/dev/null
  [ -f "$cls8" ] || "$bertctl" convert "$cls" -o "$cls8" --dtype int8 >/dev/null
  for model in "$cls" "$cls8"; do
    echo "warm the page cache" | "$bertctl" classify -m "$model" >/dev/null
    best=
    for i in 1 2 3 4 5; do
      # The clock stops when the line arrives, not when the process has torn down its mappings
      # (unmapping 438 MB of page tables takes ~30 ms after the answer is out).
      s=$(date +%s.%N)
      e=$(echo "This is a fine sentence to classify." | "$bertctl" classify -m "$model" -t "$threads" |
        { IFS= read -r _; date +%s.%N; })
      best=$(awk -v a="$best" -v s="$s" -v e="$e" 'BEGIN { t = e - s; if (a == "" || t < a) a = t; printf "%.4f", a }')
    done
    rss=$( (echo "This is a fine sentence." | /usr/bin/time -f '%M' "$bertctl" classify -m "$model" >/dev/null) 2>&1 | tail -1)
    emit "{\"impl\":\"bertctl\",\"bench\":\"first-line\",\"model\":\"$(basename "$model")\",\"seconds_best_of_5\":$best,\"peak_rss_kb\":$rss}"
  done
fi

# ---- fine-tuning step -------------------------------------------------------------------------------------
# Interleaved rounds as for the forward: bertctl then PyTorch on each configuration, the ratio the
# median of the rounds' (a step of either drifts by a fifth from one minute to the next here).
if has train; then
  for ((r = 1; r <= rounds; r++)); do
    for cfg in "small 32 5" "base 8 3"; do
      set -- $cfg
      line=$("$build/bench/bench_train" --config "$1" --batch "$2" --seq 128 --threads "$threads" --steps "$3")
      emit "${line%\}},\"round\":$r}"
      if $peer_torch; then
        out=$( (LD_LIBRARY_PATH=$openblas /usr/bin/time -f 'peak_rss_kb %M' /usr/bin/python3 "$shared/bench/bert_torch.py" train \
          --config "$1" --threads "$threads" --batch "$2" --seq 128 --steps 3 --warmup 1 --label openblas-omp) 2>&1)
        emit "$(grep '^{' <<<"$out" | sed -E "s/\}$/, \"peak_rss_kb\": $(grep -oE 'peak_rss_kb [0-9]+' <<<"$out" | cut -d' ' -f2), \"round\": $r}/")"
      fi
    done
  done
fi

# ---- tokenizer ---------------------------------------------------------------------------------------------
if has tok; then
  out=$(REPS=3 bash "$repo/bench/tokenizer_bench.sh" "$bertctl" | grep '^{')
  while read -r l; do emit "$l"; done <<<"$out"
fi

# ---- summary -----------------------------------------------------------------------------------------------
echo
echo "== summary (ratios from this run; >1 means bertctl is faster) =="
awk '
  # JSON fields from the producers (ours compact, Python and Node with spaces), numbers maybe quoted.
  function num(line, key,   m) {
    if (match(line, "\"" key "\": ?\"?[-0-9.e]+")) { m = substr(line, RSTART, RLENGTH); sub(/.*: ?"?/, "", m); return m + 0 }
    return -1 }
  function str(line, key,   m) {
    if (match(line, "\"" key "\": ?\"[^\"]*\"")) { m = substr(line, RSTART, RLENGTH); sub(/.*: ?"/, "", m); sub(/"$/, "", m); return m }
    return "" }
  function has_list(line,   m) {  # the "has" array of bertctl info --cpu, as words
    if (match(line, "\"has\":\\[[^]]*\\]")) { m = substr(line, RSTART + 7, RLENGTH - 8); gsub(/"/, "", m); gsub(/,/, " ", m); return m }
    return "" }
  function median(list,   a, n, i, j, t) {  # of a space-separated list of numbers
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  function values(a, ak, rounds,   rs, n, j, out) {  # a[ak, r] for each round r measured
    n = split(rounds, rs, " ")
    for (j = 1; j <= n; j++) if ((ak SUBSEP rs[j]) in a) out = out " " a[ak, rs[j]]
    return out }
  function ratios(a, ak, b, bk, rounds,   rs, n, j, out) {  # a[ak, r] / b[bk, r], round by round
    n = split(rounds, rs, " ")
    for (j = 1; j <= n; j++) if ((ak SUBSEP rs[j]) in a && (bk SUBSEP rs[j]) in b && b[bk, rs[j]] > 0)
      out = out " " sprintf("%.3f", a[ak, rs[j]] / b[bk, rs[j]])
    return out }
  /"impl":"bertctl"/ && /"median_ms"/ {
    k = str($0, "dtype") " " num($0, "batch") "x" num($0, "seq") " " str($0, "model"); r = num($0, "round")
    if (!(k in rounds_of)) order[++n] = k
    ours_r[k, r] = num($0, "seq_per_s"); gf_r[k, r] = num($0, "gflops")
    rows[k] = num($0, "batch") * num($0, "seq"); rounds_of[k] = rounds_of[k] " " r }
  /"bench":"matmul-peak"/ { pk_r[(str($0, "dtype") == "int8" ? "I8" : "F32") " " num($0, "rows"), num($0, "round")] = num($0, "gops") }
  /"peer":"onnxruntime-node"/ && /"median_ms"/ {
    dt = ($0 ~ /int8/) ? "I8" : "F32"; ort_r[dt " " num($0, "batch") "x" num($0, "seq"), num($0, "round")] = num($0, "seq_per_s") }
  /"peer": "pytorch", "mode": "fp32"/ && /"median_ms"/ { torch["F32 " num($0, "batch") "x" num($0, "seq")] = num($0, "seq_per_s") }
  /"bench":"real-text"/ { r = num($0, "round")
    if ($0 ~ /bertctl/) { m = str($0, "model"); text_r[m, r] = num($0, "seq_per_s"); text_rounds[m] = text_rounds[m] " " r }
    else text_r["ort", r] = num($0, "seq_per_s") }
  /"bench":"(ner|qa)"/ { r = num($0, "round"); t = str($0, "bench")
    if ($0 ~ /bertctl/) { task_r[t, r] = num($0, "seq_per_s"); task_rounds[t] = task_rounds[t] " " r }
    else task_r[t "-ort", r] = num($0, "seq_per_s") }
  /"bench":"machine"/ { printf "machine: %s; has %s; oneDNN %s%s\n", str($0, "cpu"), has_list($0), str($0, "onednn"),
    str($0, "cap") != "none" ? "; capped at " str($0, "cap") : "" }
  /"bench":"kernels"/ { printf "kernels %s %s: %s\n", str($0, "model"), str($0, "shape"), str($0, "kernels") }
  /"bench":"first-line"/ { printf "first output line, %-26s %.3f s, peak RSS %d MB\n", str($0, "model"), num($0, "seconds_best_of_5"), num($0, "peak_rss_kb") / 1024 }
  /"impl":"bertctl","cmd":"train"/ { c = str($0, "config"); r = num($0, "round")
    tr_r[c, r] = num($0, "examples_per_s"); trm[c] = num($0, "peak_rss_mb"); train_rounds[c] = train_rounds[c] " " r }
  /"peer": "pytorch", "cmd": "train"/ { pt_r[str($0, "config"), num($0, "round")] = num($0, "examples_per_s"); ptm[str($0, "config")] = num($0, "peak_rss_kb") / 1024 }
  /"tool":"bertctl"/ { tok[num($0, "threads")] = num($0, "median_MBps") }
  /"peer": "tokenizers \(rust/ { rust[num($0, "rayon_threads")] = num($0, "median_MBps") }
  END {
    for (i = 1; i <= n; i++) { k = order[i]; split(k, p, " "); key = p[1] " " p[2]
      rate = median(values(ours_r, k, rounds_of[k])); fractions = ratios(gf_r, k, pk_r, p[1] " " rows[k], rounds_of[k])
      printf "forward %-34s %7.2f seq/s  %6.1f G(FL)OP/s = %3.0f%% of matmul", k, rate, median(values(gf_r, k, rounds_of[k])),
        fractions != "" ? 100 * median(fractions) : 0
      vs = ratios(ours_r, k, ort_r, key, rounds_of[k])
      if (vs != "") printf "  vs ORT %.2fx (rounds:%s)", median(vs), vs
      if (key in torch) printf "  vs PyTorch %.2fx", rate / torch[key]
      printf "\n" }
    for (m in text_rounds) { vs = ratios(text_r, m, text_r, "ort", text_rounds[m])
      printf "real text %-26s %7.2f seq/s%s\n", m, median(values(text_r, m, text_rounds[m])),
        vs != "" ? sprintf("  vs ORT (padded batches) %.2fx (rounds:%s)", median(vs), vs) : "" }
    for (t in task_rounds) { vs = ratios(task_r, t, task_r, t "-ort", task_rounds[t])
      printf "%-3s (whole command) %7.2f inputs/s%s\n", t, median(values(task_r, t, task_rounds[t])),
        vs != "" ? sprintf("  vs ORT encoder only %.2fx (rounds:%s)", median(vs), vs) : "" }
    for (c in train_rounds) { vs = ratios(tr_r, c, pt_r, c, train_rounds[c])
      printf "train %-6s %6.2f examples/s, peak %d MB%s\n", c, median(values(tr_r, c, train_rounds[c])), trm[c],
        vs != "" ? sprintf("  vs PyTorch %.2fx (rounds:%s; peak %d MB)", median(vs), vs, ptm[c]) : "" }
    for (t in tok) printf "tokenize %d thread(s) %6.1f MB/s%s\n", t, tok[t], (t in rust) ? sprintf("  vs HF Rust %.1fx", tok[t] / rust[t]) : ""
  }' "$results"
