#!/usr/bin/env bash
# Installs every Debian 12 package Vectorize needs to build, run, test and benchmark.
# Idempotent: packages already present are skipped; safe to rerun. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake pkg-config git ca-certificates
  # libraries (Boost 1.81: Beast/Asio, JSON, URL)
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev libpq-dev libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  # PostgreSQL 15: the scale-out backend; the tests start a private cluster (scripts/test-postgres.sh)
  postgresql
  # model code: libtorch 1.13 (CPU) on OpenBLAS's threaded build (without it BLAS falls back to
  # the reference library, ~20x slower); utf8proc for the tokenizer's Unicode normalisation
  libtorch-dev libopenblas0-pthread libutf8proc-dev
  # uploads: zips and tarballs (libarchive), HTTP clients of the Hub and GitHub (libcurl),
  # spreadsheets (expat for XLSX's XML, FreeXL for XLS), compression for Parquet pages
  libarchive-dev libcurl4-openssl-dev libssl-dev libexpat1-dev libfreexl-dev zlib1g-dev libzstd-dev libsnappy-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev sqlite3 wrk curl python3
  # the independent Python reference of the embedding model (golden vectors, benchmark ratio);
  # Debian's interpreter is /usr/bin/python3
  python3-torch python3-numpy
  # the dashboard's browser test (tests/browser): Debian's Chromium, driven by playwright-core
  chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
