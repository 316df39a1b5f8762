#!/usr/bin/env bash
# nudge <-> PyTorch checkpoint exchange. Usage: torch_interop.sh NUDGE_TESTS_BINARY
# Exit 77 (ctest: skipped) when python3 has no torch.
set -euo pipefail
tests_binary=$1
here=$(cd "$(dirname "$0")" && pwd)
# The first Python that has torch: the one on PATH (a GPU machine's), else Debian's.
python=""
for candidate in python3 /usr/bin/python3; do
  if "$candidate" -c "import torch" 2>/dev/null; then python=$candidate; break; fi
done
if [ -z "$python" ]; then
  echo "SKIPPED: no python3 can import torch (Debian: apt-get install python3-torch)"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export NUDGE_INTEROP_DIR=$dir
# Runs one gtest case and insists that it ran and passed (not filtered out, not skipped).
run_case() {
  local output
  output=$("$tests_binary" --gtest_filter="$1" 2>&1) || { echo "$output"; exit 1; }
  echo "$output" | grep -q "\[  PASSED  \] 1 test" && ! echo "$output" | grep -q "SKIPPED \]" ||
    { echo "$output"; echo "FAILED: $1 did not run"; exit 1; }
  echo "$1 passed"
}
run_case Interop.ExportForTorch
"$python" "$here/torch_interop.py" check "$dir"
"$python" "$here/torch_interop.py" export "$dir"
run_case Interop.ImportFromTorch
"$python" "$here/torch_interop.py" layers "$dir"
run_case Interop.LayersMatchPyTorch
