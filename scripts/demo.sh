#!/usr/bin/env bash
# Runs the 13-phase consolidation example end to end on the local dev server:
# builds Baton, starts the server (installing the Temporal CLI if needed), starts one
# worker process for every queue, runs the plan, stops the worker, and leaves the server
# up so the run can be explored in the Web UI.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules ] || npm install --no-audit --no-fund
npm run --silent build >/dev/null
./temporal-dev.sh start

export TEMPORAL_ADDRESS="127.0.0.1:${TEMPORAL_PORT:-7233}"
export TEMPORAL_UI_URL="http://127.0.0.1:${TEMPORAL_UI_PORT:-8233}"
example=examples/consolidation

# Packages are signed with a local key, made once (an empty file is replaced); agents verify with the same key.
key_file=.temporal/handoff.key
[ -s "$key_file" ] || node dist/cli/main.js keygen --hmac --force --out "$key_file" >/dev/null
export BATON_HANDOFF_KEY_FILE="$PWD/$key_file"

node dist/cli/main.js worker --config "$example/orchestrator_config.json" &
worker=$!
stop_worker() { kill "$worker" 2>/dev/null && wait "$worker" 2>/dev/null || true; }
trap stop_worker EXIT

status=0
node dist/cli/main.js run "$example/plan.json" --config "$example/orchestrator_config.json" --id "consolidation-$(date +%Y%m%d-%H%M%S)" || status=$?

stop_worker
trap - EXIT
echo
echo "Handoff packages, logs and reports: $example/.baton/consolidation/"
echo "The dev server is still running, so you can look at the run in the Web UI ($TEMPORAL_UI_URL),"
echo "or as a graph on Baton's own page: node dist/cli/main.js ui (http://127.0.0.1:8234)."
echo "Stop it with: ./temporal-dev.sh stop"
exit "$status"
