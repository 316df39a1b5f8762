#!/usr/bin/env bash
# A rank that exits early, or never makes a collective the others wait in, must end the whole job
# with a clear error within seconds (not hang). Usage: failing_rank.sh MPIEXEC FAILURE_PROBE
set -uo pipefail
mpiexec=$1
probe=$2
for mode in exit skip abort; do
  start=$(date +%s)
  output=$(timeout 120 "$mpiexec" -n 2 --oversubscribe "$probe" "$mode" 2>&1)
  status=$?
  elapsed=$(( $(date +%s) - start ))
  echo "--- mode $mode: exit status $status after ${elapsed}s"
  echo "$output" | tail -n 15
  if [ "$status" -eq 0 ] || [ "$status" -eq 124 ]; then
    echo "FAILED: mode $mode: the job $([ "$status" -eq 124 ] && echo "hung" || echo "succeeded")"; exit 1
  fi
  if [ "$elapsed" -gt 60 ]; then echo "FAILED: mode $mode took ${elapsed}s"; exit 1; fi
  if [ "$mode" = skip ] && ! echo "$output" | grep -q "did not complete within 2000 ms"; then
    echo "FAILED: mode skip: no timeout error naming the collective"; exit 1
  fi
  if [ "$mode" = exit ] && ! echo "$output" | grep -qiE "did not complete within|exit(ed|ing) (improperly|without)|non-zero status"; then
    echo "FAILED: mode exit: no message about the rank that exited"; exit 1
  fi
  if [ "$mode" = abort ] && { ! echo "$output" | grep -q "rank 1: rank 1's own error" ||
                              echo "$output" | grep -q "did not complete within"; }; then
    echo "FAILED: mode abort: rank 1's message missing, or rank 0 waited for its timeout"; exit 1
  fi
done
echo "a failing rank ends the job with an error, in every mode"
