#!/usr/bin/env bash
# Installs the Debian 12 packages Todo needs to build, run and test — only those missing.
# Works as root; uses sudo otherwise.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache git ca-certificates tzdata
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev libsodium-dev libssl-dev libutf8proc-dev libical-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-pytest python3-jsonschema python3-dateutil python3-websockets
  wrk
  # make fuzz-smoke (in make test) and make fuzz: clang with libFuzzer and the sanitizer runtimes,
  # and llvm-symbolizer for readable stacks
  clang libclang-rt-14-dev llvm
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
