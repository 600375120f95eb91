#!/usr/bin/env bash
# Installs the Debian packages that building, running and testing Aurora SendCloud need, or,
# given package names as arguments, just those (bench/ and the e2e tests use it so).
# Idempotent and non-interactive: packages already present are skipped, and `apt-get update`
# runs only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev clang-format
  libboost-dev libssl-dev libsodium-dev
  libsqlite3-dev libsqlitecpp-dev
  libphonenumber-dev libprotobuf-dev libicu-dev
  nlohmann-json3-dev libfmt-dev libspdlog-dev libtomlplusplus-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libopendkim-dev
  libc-ares-dev
  libcurl4-openssl-dev
  curl python3
  kannel kannel-extras
  python3-aiosmtpd python3-dkim dnsmasq-base openssl
)

if [ $# -gt 0 ]; then
  packages=("$@")
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

echo "$(basename "$0"): installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
