#!/usr/bin/env bash
# Debian packages the tests and benchmarks need: Chromium (e2e, UI bench), Xvfb (headed runs), xgboost (peer
# in the training benchmark), ClickHouse (the second store backend's tests start their own server), openssl (the
# HTTPS ClickHouse tests make their own certificate), ZooKeeper (and the Java it runs on: the ClickHouse cluster tests
# start two servers whose ON CLUSTER statements go through it). Idempotent: installs only what is missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v xvfb-run >/dev/null 2>&1 || need+=(xvfb)
command -v xgboost >/dev/null 2>&1 || need+=(xgboost)
{ command -v clickhouse-server || [ -x /usr/sbin/clickhouse-server ]; } >/dev/null 2>&1 || need+=(clickhouse-server)
command -v clickhouse-client >/dev/null 2>&1 || need+=(clickhouse-client)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
{ [ -f /usr/share/java/zookeeper.jar ] && command -v java; } >/dev/null 2>&1 || need+=(zookeeper)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
