#!/usr/bin/env python3
"""Merges Google Benchmark JSON from nudge's bench programs (and the PyTorch baseline's) into one
results file and a markdown table with nudge/PyTorch ratios and CPU/GPU crossovers.

    python3 bench/report.py --device NAME --command CMD --nudge a.json b.json [--torch t.json] \
                            --json out.json --markdown out.md
"""
import argparse
import datetime
import json
import re
import sys


def load_rows(path):
    with open(path) as f:
        data = json.load(f)
    rows = []
    for r in data.get("benchmarks", []):
        if r.get("run_type", "iteration") != "iteration":
            continue
        name = re.sub(r"/min_time:[0-9.]+", "", re.sub(r"/manual_time$", "", r["name"]))
        if r.get("error_occurred"):
            raise SystemExit(f"report: {path}: {name} failed: {r.get('error_message')}")
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[r.get("time_unit", "ns")]
        row = {"name": name, "us": r["real_time"] * scale, "iterations": r.get("iterations")}
        for key in ("GB/s", "of_copy_bw", "TFLOP/s", "of_cublas", "samples/s", "ops/s", "MB_rss"):
            if key in r:
                row[key] = r[key]
        rows.append(row)
    return data.get("context", {}), rows


def fmt_time(us):
    if us is None:
        return "–"
    if us >= 1e4:
        return f"{us / 1e3:,.1f} ms"
    return f"{us:,.2f} µs" if us < 100 else f"{us:,.0f} µs"


def fmt(v, digits=3):
    if v is None:
        return "–"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def markdown(device, command, date, machine, nudge, torch, torch_context, available):
    t = {r["name"]: r for r in torch}
    lines = [f"# nudge benchmarks: {device}, {date}", "",
             f"Command: `{command}`  ", f"Machine: {machine}  ",
             f"PyTorch baseline: {torch_context.get('library', 'not available on this machine')}", ""]
    if "cuda" not in available:
        lines += ["GPU rows: not available on this machine (no CUDA device).", ""]

    def ratio(name, us):
        other = t.get(name)
        return f"{other['us'] / us:.2f}×" if other and us > 0 else "–"

    train = [r for r in nudge if r["name"].startswith("train/")]
    lines += ["## Training steps (forward, loss, backward, SGD-momentum step)", "",
              "Speedup = PyTorch time / nudge time for the same workload on the same device (> 1: nudge is faster).", "",
              table(["workload", "batch", "device", "mode", "nudge", "samples/s", "TFLOP/s", "PyTorch", "speedup"],
                    [[p[1], p[2], p[3], p[4], fmt_time(r["us"]), fmt(r.get("samples/s")), fmt(r.get("TFLOP/s")),
                      fmt_time(t.get(r["name"], {}).get("us")), ratio(r["name"], r["us"])]
                     for r in train for p in [r["name"].split("/")]]), ""]

    ops = [r for r in nudge if r["name"].startswith("op/")]
    lines += ["## Ops", "", "GB/s counts bytes read + written; `of copy` is the fraction of this device's measured "
              "copy bandwidth, `of cuBLAS` the speed relative to a direct cuBLAS SGEMM of the same shape.", "",
              table(["op", "nudge", "GB/s", "of copy", "TFLOP/s", "of cuBLAS", "PyTorch", "speedup"],
                    [[r["name"][3:], fmt_time(r["us"]), fmt(r.get("GB/s")), fmt(r.get("of_copy_bw"), 2),
                      fmt(r.get("TFLOP/s")), fmt(r.get("of_cublas"), 3), fmt_time(t.get(r["name"], {}).get("us")),
                      ratio(r["name"], r["us"])] for r in ops]), ""]

    fused = {}
    for r in nudge:
        if r["name"].startswith("fused/"):
            base, variant = r["name"].rsplit("/", 1)
            fused.setdefault(base, {})[variant] = r
    lines += ["## Fused kernels against the composition they replace", "",
              table(["kernel", "fused", "GB/s", "of copy", "unfused", "fused speedup"],
                    [[base[6:], fmt_time(v["fused"]["us"]), fmt(v["fused"].get("GB/s")),
                      fmt(v["fused"].get("of_copy_bw"), 2), fmt_time(v.get("unfused", {}).get("us")),
                      f"{v['unfused']['us'] / v['fused']['us']:.2f}×" if "unfused" in v else "–"]
                     for base, v in fused.items() if "fused" in v]), ""]

    copies = [r for r in nudge if r["name"].startswith("copy/") or r["name"].startswith("overhead/")]
    if copies:
        lines += ["## Host↔device copies and per-op overhead", "",
                  table(["benchmark", "time", "GB/s", "ops/s"],
                        [[r["name"], fmt_time(r["us"]), fmt(r.get("GB/s")), fmt(r.get("ops/s"))] for r in copies]), ""]

    startup = [r for r in nudge if r["name"].startswith("startup/")]
    if startup:
        lines += ["## Start-up and footprint of a CPU program", "",
                  "A whole run of `sigmoid_neuron` on the CPU (milliseconds of training): wall time and peak "
                  "resident memory, median of several runs. A CUDA build loads its CUDA backend only on first "
                  "CUDA use.", "",
                  table(["program", "build", "wall time", "peak RSS (MiB)"],
                        [[r["name"].split("/")[1], r["name"].split("/")[2], fmt_time(r["us"]), fmt(r.get("MB_rss"))]
                         for r in startup]), ""]

    by_name = {r["name"]: r for r in nudge}
    cross = []
    for r in nudge:
        if "/cpu" not in r["name"]:
            continue
        gpu = by_name.get(r["name"].replace("/cpu", "/cuda", 1))
        if gpu:
            cross.append([r["name"].replace("/cpu", "", 1), fmt_time(r["us"]), fmt_time(gpu["us"]),
                          f"{r['us'] / gpu['us']:.2f}×", "GPU" if gpu["us"] < r["us"] else "CPU"])
    lines += ["## CPU against GPU (where they cross over)", ""]
    lines += [table(["workload", "CPU", "GPU", "GPU speedup", "faster"], cross)] if cross else \
             ["Not available: this machine has no CUDA device, so there are only CPU rows."]
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--device", required=True)
    p.add_argument("--command", required=True)
    p.add_argument("--nudge", nargs="+", required=True)
    p.add_argument("--torch")
    p.add_argument("--json", required=True)
    p.add_argument("--markdown", required=True)
    args = p.parse_args()

    nudge, context = [], {}
    for path in args.nudge:
        ctx, rows = load_rows(path)
        context = context or ctx
        nudge += rows
    torch, torch_context = ([], {})
    if args.torch:
        torch_context, torch = load_rows(args.torch)
    groups = {r["name"].split("/")[0] for r in nudge}
    missing = {"train", "op", "fused"} - groups
    if missing:
        sys.exit(f"report: no {', '.join(sorted(missing))} rows in the nudge results")
    available = {"cuda" if "/cuda" in r["name"] else "cpu" for r in nudge}
    date = datetime.date.today().isoformat()
    machine = f"{context.get('num_cpus', '?')} CPUs at {context.get('mhz_per_cpu', '?')} MHz" + \
              (f", {torch_context['gpu']}" if torch_context.get("gpu") else "")
    result = {"device": args.device, "date": date, "command": args.command, "machine": machine,
              "gpu_available": "cuda" in available, "benchmark_context": context,
              "pytorch_context": torch_context, "nudge": nudge, "pytorch": torch}
    with open(args.json, "w") as f:
        json.dump(result, f, indent=1)
    with open(args.markdown, "w") as f:
        f.write(markdown(args.device, args.command, date, machine, nudge, torch, torch_context, available))


if __name__ == "__main__":
    main()
