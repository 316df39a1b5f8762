#!/usr/bin/env python3
"""The self-test runner must never report PASS for a broken run.

    runner_test.py PATH/TO/nudge-selftest

Builds a fake package (bin/, lib/, share/nudge/) whose programs are small shell scripts, runs the
real runner over it, and checks its exit code: a suite binary that segfaults, one that exits 1
with every test passed in its JSON, a compute-sanitizer stand-in that prints no ERROR SUMMARY, a
part that hangs (its child must be killed with it), a CUDA case skipped under required CUDA and
a part dropped for budget under required CUDA, a distributed suite that exits 1 and a distributed
CUDA case skipped under required CUDA must each make it exit non-zero; the same fake
package with everything healthy must make it exit 0 (so this test can fail in both directions).
"""
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time

RUNNER = os.path.abspath(sys.argv[1])
MARKER = "987654321"  # the hanging suite's child sleeps this long: found by pgrep if it survived

FAKE_TESTS = r'''#!/bin/sh
# A stand-in for nudge_tests; FAKE_SUITE picks how it behaves.
json=""
for a in "$@"; do case "$a" in --gtest_output=json:*) json="${a#--gtest_output=json:}";; esac; done
skipped=""
[ "$FAKE_SUITE" = skip_cuda ] && skipped=', {"name": "Add/cuda0", "result": "SKIPPED"}'
write_json() {
  [ -n "$json" ] && printf '{"testsuites": [{"name": "Ops", "testsuite": [{"name": "Add/cpu", "result": "COMPLETED"}%s]}]}' "$skipped" > "$json"
}
echo "[ RUN      ] Ops.Add/cpu"
echo "[       OK ] Ops.Add/cpu (0 ms)"
if [ "$FAKE_SUITE" = skip_cuda ]; then
  echo "[ RUN      ] Ops.Add/cuda0"; echo "no CUDA driver"; echo "[  SKIPPED ] Ops.Add/cuda0 (0 ms)"
fi
case "$FAKE_SUITE" in
  segfault) write_json; kill -SEGV $$ ;;
  exit1) write_json; exit 1 ;;
  hang) sleep MARKER & sleep MARKER ;;
esac
write_json
echo "[  PASSED  ] 1 test."
'''.replace("MARKER", MARKER)

FAKE_EXAMPLE = '''#!/bin/sh
echo "final: loss=0.5 accuracy=1"
'''

FAKE_SANITIZER = '''#!/bin/sh
# A stand-in for compute-sanitizer; FAKE_SANITIZER picks how it behaves.
[ "$FAKE_SANITIZER" = no_summary ] && exit 0
echo "[  PASSED  ] 3 tests."
echo "========= ERROR SUMMARY: 0 errors"
'''


FAKE_DISTRIBUTED_TESTS = r'''#!/bin/sh
# A stand-in for nudge_distributed_tests; FAKE_DISTRIBUTED picks how it behaves.
echo "[ RUN      ] Collectives.AllReduce"
echo "[       OK ] Collectives.AllReduce (0 ms)"
if [ "$FAKE_DISTRIBUTED" = skip_cuda ]; then
  echo "[ RUN      ] CollectivesCuda.AllReduce"; echo "no CUDA driver"; echo "[  SKIPPED ] CollectivesCuda.AllReduce (0 ms)"
fi
[ "$FAKE_DISTRIBUTED" = exit1 ] && exit 1
echo "[  PASSED  ] 1 test."
'''

# mpirun and nudge-mpi stand-ins: run the program once, as a world of one.
FAKE_MPIRUN = '''#!/bin/sh
while [ "$1" = "--oversubscribe" ] || [ "$1" = "-n" ] || [ "$1" = "2" ]; do shift; done
exec "$@"
'''


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def make_package(root):
    write(os.path.join(root, "bin", "nudge_tests"), FAKE_TESTS)
    shutil.copy(RUNNER, os.path.join(root, "bin", "nudge-selftest"))
    for name in ["two_parameter", "one_neuron", "and_gate", "sigmoid_neuron", "xor", "apartment_prices",
                 "graph_training"]:
        write(os.path.join(root, "bin", name), FAKE_EXAMPLE)
    os.makedirs(os.path.join(root, "lib"), exist_ok=True)
    write(os.path.join(root, "bin", "nudge_distributed_tests"), FAKE_DISTRIBUTED_TESTS)
    write(os.path.join(root, "bin", "distributed_failure_probe"), "#!/bin/sh\nexit 0\n")
    write(os.path.join(root, "bin", "nudge-mpi"), '#!/bin/sh\nexec "$@"\n')
    write(os.path.join(root, "tools", "mpirun"), FAKE_MPIRUN)
    scripts = os.path.join(root, "share", "nudge", "tests", "distributed")
    write(os.path.join(scripts, "mpirun_retry.sh"), '#!/bin/sh\nexec "$@"\n')
    write(os.path.join(scripts, "failing_rank.sh"), '#!/bin/sh\nexec "$2" exit cpu /tmp/x\n')
    write(os.path.join(root, "tools", "compute-sanitizer"), FAKE_SANITIZER)


def run(root, args, suite="ok", sanitizer="clean", distributed="ok"):
    out = tempfile.mkdtemp(dir=root)
    env = {"PATH": os.path.join(root, "tools") + ":/usr/bin:/bin", "HOME": root, "FAKE_SUITE": suite,
           "FAKE_SANITIZER": sanitizer, "FAKE_DISTRIBUTED": distributed, "LANG": "C.UTF-8"}
    p = subprocess.run([os.path.join(root, "bin", "nudge-selftest"), "--out", out, "--data", "/nonexistent"] + args,
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    return p.returncode, p.stdout, summary


def survivors():
    p = subprocess.run(["pgrep", "-f", f"sleep {MARKER}"], stdout=subprocess.PIPE, text=True)
    return p.stdout.split()


def main():
    root = tempfile.mkdtemp()
    failures = []
    try:
        make_package(root)
        only = lambda *keep: ["--skip"] + [p for p in ["suite", "examples", "interop", "distributed", "differential",
                                                      "sanitizers", "benchmarks"] if p not in keep]
        # (what, runner arguments, fake suite, fake sanitizer, the part that must fail or None for a pass)
        cases = [
            ("healthy package", only("suite", "examples", "distributed", "sanitizers"), "ok", "clean", None),
            ("distributed tests exit 1", only("distributed") + ["--distributed-fake", "exit1"], "ok", "clean",
             "distributed"),
            ("distributed CUDA case skipped under --require-cuda",
             only("distributed") + ["--require-cuda", "--distributed-fake", "skip_cuda"], "ok", "clean", "distributed"),
            ("the same distributed skip without --require-cuda", only("distributed") + ["--distributed-fake", "skip_cuda"],
             "ok", "clean", None),
            ("suite binary segfaults", only("suite"), "segfault", "clean", "suite"),
            ("suite exits 1 with every test passed in its JSON", only("suite"), "exit1", "clean", "suite"),
            ("sanitizer prints no ERROR SUMMARY", only("sanitizers"), "ok", "no_summary", "sanitizers"),
            ("suite hangs past its time limit", only("suite") + ["--part-timeout", "3"], "hang", "clean", "suite"),
            ("CUDA case skipped under --require-cuda", only("suite") + ["--require-cuda"], "skip_cuda", "clean",
             "suite"),
            ("the same skip without --require-cuda", only("suite"), "skip_cuda", "clean", None),
            ("a part dropped for budget under --require-cuda", only("suite", "examples", "sanitizers")
             + ["--require-cuda", "--budget", "30"], "ok", "clean", "suite"),
            ("the same budget without --require-cuda", only("suite", "examples", "sanitizers") + ["--budget", "30"],
             "ok", "clean", None),
        ]
        for name, args, suite, sanitizer, failing_part in cases:
            distributed = "ok"
            if "--distributed-fake" in args:  # read by the fake, not the runner
                i = args.index("--distributed-fake")
                distributed, args = args[i + 1], args[:i] + args[i + 2:]
            code, output, summary = run(root, args, suite, sanitizer, distributed)
            summary.setdefault("failed_parts", [k for k, v in summary["parts"].items() if v["status"] == "failed"])
            if failing_part is None:
                right = code == 0 and not summary["failed_parts"]
            else:
                right = code != 0 and failing_part in summary["failed_parts"]
            verdict = "ok" if right else "WRONG"
            print(f"{verdict}: {name}: exit {code}, parts "
                  + ", ".join(f"{k}={v['status']}" for k, v in summary["parts"].items()))
            if not right:
                failures.append(name)
                print(output)
        time.sleep(0.5)
        left = survivors()
        if left:
            failures.append(f"the hanging suite's child survived the time limit (pids {' '.join(left)})")
            subprocess.run(["pkill", "-f", f"sleep {MARKER}"])
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"{len(cases) + 1 - len(failures)} passed, {len(failures)} failed")
    for f in failures:
        print(f"FAILED: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
