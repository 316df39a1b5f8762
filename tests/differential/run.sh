#!/usr/bin/env bash
# Runs the differential tester with the first python3 that imports torch (a GPU machine's, else
# Debian's python3-torch). Usage: run.sh INTERPRETER [difftest.py options]. Exit 77 (ctest:
# skipped) without torch.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
for python in python3 /usr/bin/python3; do
  if "$python" -c "import torch" 2>/dev/null; then
    interpreter=$1
    shift
    exec "$python" "$here/difftest.py" --interpreter "$interpreter" "$@"
  fi
done
echo "SKIPPED: no python3 can import torch (Debian: apt-get install python3-torch)"
exit 77
