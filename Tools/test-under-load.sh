#!/usr/bin/env bash
# Runs `make test` RUNS times in a row (default 3) while two CPU-burning processes run
# beside it (stress-ng --cpu 2, from Debian), to show that the suite waits on conditions,
# not on timing luck. stress-ng is started and stopped by its PID; each run's result and
# time are printed, and the script fails if any run failed.
#   Tools/test-under-load.sh [RUNS]
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
if ! command -v stress-ng >/dev/null; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq stress-ng
fi
failed=0
for run in $(seq 1 "$runs"); do
  stress-ng --cpu 2 --timeout 3h --quiet &
  burner=$!
  start=$(date +%s)
  if make test > "test-under-load-$run.log" 2>&1; then result=passed; else result=FAILED; failed=1; fi
  kill "$burner" 2>/dev/null
  wait "$burner" 2>/dev/null
  echo "run $run: $result in $(( $(date +%s) - start )) s beside stress-ng --cpu 2 ($(grep -E '[0-9]+ (passed|failed)' "test-under-load-$run.log" | tail -2 | tr '\n' ' '))"
done
exit $failed
