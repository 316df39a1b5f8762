#!/usr/bin/env bash
# mpirun_retry.sh retries exactly Open MPI's shutdown-race report (ompi#7833) once, and passes every
# other failure through. A fake mpirun (a script counting its runs) stands in for the real one.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/fake_mpirun" <<'FAKE'
#!/usr/bin/env bash
# $1: the behaviour; counts its runs in $2.
n=$(( $(cat "$2" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$2"
case "$1" in
  race-then-ok) if [ "$n" -eq 1 ]; then
      echo "mpirun has exited due to process rank 0 with PID 0 on node x exiting improperly"; exit 1; fi
    echo "final: ok"; exit 0 ;;
  race-always) echo "rank 1 with PID 0 on node x exiting improperly"; exit 1 ;;
  other-failure) echo "rank 1 failed: DistributedError"; exit 3 ;;
esac
FAKE
chmod +x "$dir/fake_mpirun"
failures=0
check() {  # behaviour, expected exit, expected runs
  rm -f "$dir/count"
  "$here/mpirun_retry.sh" "$dir/fake_mpirun" "$1" "$dir/count" > "$dir/out" 2> "$dir/err"
  local status=$? runs
  runs=$(cat "$dir/count")
  if [ "$status" -ne "$2" ] || [ "$runs" -ne "$3" ]; then
    echo "WRONG: $1: exit $status after $runs runs (wanted exit $2 after $3)"; failures=$((failures + 1))
  else
    echo "ok: $1: exit $status after $runs runs"
  fi
}
check race-then-ok 0 2
grep -q "final: ok" "$dir/out" && ! grep -q "exiting improperly" "$dir/out" || { echo "WRONG: stdout is not the second run's"; failures=$((failures + 1)); }
check race-always 1 2
check other-failure 3 1
echo "$((4 - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
