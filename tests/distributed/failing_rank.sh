#!/usr/bin/env bash
# A rank that exits early, or never makes a collective the others wait in, must end the whole job
# with a clear error within seconds (not hang), and a save after the failure must leave the last good
# checkpoint as it was. On the CPU (MPI) always; on CUDA (NCCL) where the machine has a GPU per rank.
# Usage: failing_rank.sh MPIEXEC FAILURE_PROBE
set -uo pipefail
mpiexec=$1
probe=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
gpus=$(nvidia-smi -L 2>/dev/null | grep -c "^GPU" || true)
devices=(cpu)
if [ "${gpus:-0}" -ge 2 ]; then devices+=(cuda); else echo "(CUDA modes not run: $gpus GPUs here, they need 2)"; fi
for device in "${devices[@]}"; do
  modes=(exit skip abort save)
  [ "$device" = cuda ] && modes+=(graph)
  for mode in "${modes[@]}"; do
    rm -f "$dir"/ckpt*
    start=$(date +%s)
    output=$(timeout 120 "$mpiexec" -n 2 --oversubscribe "$probe" "$mode" "$device" "$dir/ckpt" 2>&1)
    status=$?
    elapsed=$(( $(date +%s) - start ))
    echo "--- mode $mode on $device: exit status $status after ${elapsed}s"
    echo "$output" | tail -n 15
    fail() { echo "FAILED: mode $mode on $device: $1"; exit 1; }
    if [ "$status" -eq 0 ] || [ "$status" -eq 124 ]; then
      fail "the job $([ "$status" -eq 124 ] && echo "hung" || echo "succeeded")"
    fi
    [ "$elapsed" -le 60 ] || fail "took ${elapsed}s"
    if [ "$mode" = skip ] || [ "$mode" = save ] || [ "$mode" = graph ]; then
      echo "$output" | grep -q "did not complete within 2000 ms" || fail "no timeout error naming the collective"
    fi
    if [ "$mode" = exit ] &&
       ! echo "$output" | grep -qiE "did not complete within|exit(ed|ing) (improperly|without)|non-zero status"; then
      fail "no message about the rank that exited"
    fi
    if [ "$mode" = abort ] && { ! echo "$output" | grep -q "rank 1: rank 1's own error" ||
                                echo "$output" | grep -q "did not complete within"; }; then
      fail "rank 1's message missing, or rank 0 waited for its timeout"
    fi
    if [ "$mode" = save ]; then
      echo "$output" | grep -q "rank 0: save refused" || fail "rank 0's save after the failure was not refused"
      cmp -s "$dir/ckpt" "$dir/ckpt.good" || fail "the last good checkpoint was replaced"
    fi
  done
done
echo "a failing rank ends the job with an error, in every mode, and the last good checkpoint stays"
