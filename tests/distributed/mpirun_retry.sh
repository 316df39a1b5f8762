#!/usr/bin/env bash
# Runs the mpirun command line given as arguments, printing its output (a retried attempt's output
# goes to stderr, so stdout holds exactly one run's). Open MPI 4's mpirun now and
# then reports a rank that exited cleanly as "with PID 0 ... exiting improperly"
# (open-mpi/ompi#7833, a race in its own shutdown after every rank has finished). That exact
# report, and only it, gets one more try; any other failure is returned as it is.
set -uo pipefail
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for attempt in 1 2; do
  "$@" > "$out" 2>&1
  status=$?
  if [ "$status" -ne 0 ] && [ "$attempt" -eq 1 ] && grep -q "with PID 0 on" "$out" && grep -q "exiting improperly" "$out"
  then
    cat "$out" >&2
    echo "mpirun_retry: that was open-mpi/ompi#7833 (a clean exit reported as improper); once more" >&2
    continue
  fi
  cat "$out"
  exit "$status"
done
