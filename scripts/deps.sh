#!/usr/bin/env bash
# Installs the Debian packages bertctl builds with (idempotent; uses sudo when not root).
set -euo pipefail
# clang, libclang-rt-dev (libFuzzer) and libomp-dev: the fuzzing harnesses (scripts/fuzz.sh).
# ocl-icd-opencl-dev: Debian's oneDNN is built with an OpenCL GPU runtime, so its CMake config
# requires OpenCL (a Recommends, which --no-install-recommends would otherwise skip).
pkgs=(g++ cmake ninja-build pkg-config libdnnl-dev ocl-icd-opencl-dev libcli11-dev libfmt-dev
      libutf8proc-dev doctest-dev nlohmann-json3-dev libzip-dev libxxhash-dev
      clang libclang-rt-dev libomp-dev)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
