#!/usr/bin/env bash
# Runs the 13-phase consolidation example end to end on the local dev server:
# builds Baton, starts the server (installing the Temporal CLI if needed), starts one
# worker process for every queue, runs the plan, stops the worker, and leaves the server
# up so the run can be explored in the Web UI.
#
#   npm run demo                 the run's files in its workdir (examples/consolidation/.baton/)
#   npm run demo -- --store s3   the run's files in the S3 dev server (scripts/s3-dev.sh), the
#                                workdir only a cache, as on machines that share nothing
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

root_args=()
case "${1:-} ${2:-}" in
  "--store s3")
    bash scripts/s3-dev.sh start
    eval "$(bash scripts/s3-dev.sh env)"
    export BATON_STORE="$BATON_STORE/demo" BATON_CACHE="$PWD/.temporal/cache"
    # With a store, commands run from the worker's --root: here, the example's own directory.
    root_args=(--root "$example")
    echo "The run's files go to $BATON_STORE ($AWS_ENDPOINT_URL_S3); the worker's cache is $BATON_CACHE"
    ;;
  " ") ;;
  *) echo "usage: npm run demo [-- --store s3]" >&2; exit 2 ;;
esac

node dist/cli/main.js worker --config "$example/orchestrator_config.json" "${root_args[@]}" &
worker=$!
stop_worker() { kill "$worker" 2>/dev/null && wait "$worker" 2>/dev/null || true; }
trap stop_worker EXIT

status=0
node dist/cli/main.js run "$example/plan.json" --config "$example/orchestrator_config.json" --id "consolidation-$(date +%Y%m%d-%H%M%S)" || status=$?

stop_worker
trap - EXIT
echo
if [ -n "${BATON_STORE:-}" ]; then
  echo "Handoff packages, logs and outputs: in $BATON_STORE (runs/<run>/); node dist/cli/main.js doctor <run> checks them"
else
  echo "Handoff packages, logs and reports: $example/.baton/consolidation/"
fi
echo "The dev server is still running, so you can look at the run in the Web UI ($TEMPORAL_UI_URL),"
echo "or as a graph on Baton's own page: node dist/cli/main.js ui (http://127.0.0.1:8234)."
echo "Stop it with: ./temporal-dev.sh stop"
exit "$status"
