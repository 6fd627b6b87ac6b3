#!/usr/bin/env bash
# make demo-down: stop the demo's operator and sandbox, leaving nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
osk=$PWD/bin/osk
if state=$($osk sandbox status 2>/dev/null | awk '/Kubeconfig:/ { print $2 }') && [ -n "$state" ]; then
  pidfile=$(dirname "$state")/operator.pid
  if [ -f "$pidfile" ]; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
  fi
fi
$osk sandbox down
