#!/usr/bin/env bash
# examples/fashion_mnist_ddp under mpirun -np 2, as a user runs it: trains, rank 0 checkpoints,
# both ranks resume from that checkpoint, and a resume with other flags stops the whole job with
# the reason. Usage: ddp_example.sh MPIEXEC FASHION_MNIST_DDP  (exit 77: no Fashion-MNIST here)
set -uo pipefail
mpiexec=$1
example=$2
[ -d /usr/share/datasets/fashion-mnist ] || { echo "no Fashion-MNIST (Debian: dataset-fashion-mnist)"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# Each rank's own output is kept apart too (--output-filename), so that a failure shows which rank
# said what and how it ended.
# Open MPI's shutdown race (open-mpi/ompi#7833) gets one more try: mpirun_retry.sh.
run() {
  rm -rf "$dir/ranks"
  "$(dirname "$0")/mpirun_retry.sh" timeout 300 "$mpiexec" -n 2 --oversubscribe --output-filename "$dir/ranks" \
    "$example" --train-limit 4000 "$@" > "$dir/out" 2>> "$dir/retried"
  status=$?
  return $status
}
fail() {
  echo "FAILED: $1 (mpirun exit status ${status:-?})"
  cat "$dir/out"
  for f in $(find "$dir/ranks" -type f 2>/dev/null | sort); do echo "--- $f"; tail -n 20 "$f"; done
  exit 1
}

run --epochs 1 --save "$dir/run.ckpt" || fail "the first epoch"
grep -q "^final: .*ranks=2" "$dir/out" || fail "no final line from rank 0"
[ "$(grep -c '^final:' "$dir/out")" -eq 1 ] || fail "only rank 0 prints"
[ -s "$dir/run.ckpt" ] || fail "rank 0 wrote no checkpoint"

run --epochs 2 --resume "$dir/run.ckpt" || fail "the resumed run"
grep -q "resumed from $dir/run.ckpt: epoch 1" "$dir/out" || fail "did not resume from epoch 1"
grep -q "epoch 2/2" "$dir/out" || fail "did not train epoch 2"
grep "^final:" "$dir/out"

run --epochs 2 --lr 0.2 --resume "$dir/run.ckpt" && fail "a resume with another --lr succeeded"
grep -q "the checkpoint's run has lr" "$dir/out" || fail "no reason given for refusing the resume"
echo "fashion_mnist_ddp: trains on 2 ranks, checkpoints, resumes, refuses other flags"
