#!/usr/bin/env python3
"""Start-up cost of a small CPU program: wall time and peak resident memory of whole runs of
`sigmoid_neuron` (a CPU training run of a few milliseconds, so the time is mostly loading and
initialising), median of several runs. Given the same program from a CPU-only build, it measures
that too: a CUDA build must not make CPU programs pay for the CUDA runtime and cuBLAS.
Writes rows in Google Benchmark's JSON form for report.py.

    python3 bench/startup.py --program build/bin/sigmoid_neuron [--cpu-only build-cpu/bin/sigmoid_neuron] \
                             --out startup.json [--runs 15]
"""
import argparse
import json
import os
import statistics
import subprocess
import time


def measure(program, runs):
    times, rss = [], []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen([program], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - start)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"startup: {program} failed ({status})")
        rss.append(usage.ru_maxrss / 1024)  # KiB -> MiB
    return statistics.median(times), statistics.median(rss)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--program", required=True)
    p.add_argument("--cpu-only")
    p.add_argument("--out", required=True)
    p.add_argument("--runs", type=int, default=15)
    args = p.parse_args()
    label = "this-build"
    programs = [(label, args.program)]
    if args.cpu_only and os.path.exists(args.cpu_only):
        programs.append(("cpu-only-build", args.cpu_only))
    rows = []
    for label, program in programs:
        seconds, mib = measure(program, args.runs)
        rows.append({"name": f"startup/{os.path.basename(program)}/{label}", "run_type": "iteration",
                     "real_time": seconds * 1e3, "time_unit": "ms", "iterations": args.runs, "MB_rss": mib})
        print(f"startup {label:15s} {program}: {seconds * 1e3:.1f} ms, {mib:.1f} MiB peak RSS")
    with open(args.out, "w") as f:
        json.dump({"context": {}, "benchmarks": rows}, f, indent=1)


if __name__ == "__main__":
    main()
