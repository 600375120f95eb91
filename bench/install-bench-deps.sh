#!/usr/bin/env bash
# Installs the Debian packages that `make bench` needs on top of scripts/install-deps.sh: the load
# generator (wrk), the Kannel gateway it is compared with (kannel: bearerbox and smsbox;
# kannel-extras: the fakesmsc test SMSC), the sqlite3 CLI (to put the bench users in test mode)
# and the profilers used to explain the numbers (linux-perf, valgrind, heaptrack).
# Idempotent and non-interactive: packages already present are skipped, and `apt-get update`
# runs only when something is missing. Installing kannel does not start it (policy-rc.d or no
# init system); bench/run.sh starts its own boxes on free loopback ports.
set -euo pipefail

exec bash "$(dirname "$0")/../scripts/install-deps.sh" \
  wrk \
  kannel kannel-extras \
  sqlite3 python3 curl \
  linux-perf valgrind heaptrack
