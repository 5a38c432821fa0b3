#!/usr/bin/env bash
# Debian packages the tests and benchmarks need: Chromium (e2e, UI bench), Xvfb (headed runs), xgboost (peer
# in the training benchmark). Idempotent: installs only what is missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v xvfb-run >/dev/null 2>&1 || need+=(xvfb)
command -v xgboost >/dev/null 2>&1 || need+=(xgboost)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
