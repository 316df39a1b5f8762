#!/usr/bin/env python3
"""The distributed rows of bench/run: bench_distributed at 1 and N ranks (Google Benchmark JSON,
rank 0's) and torch_ddp_baseline.py at the same rank counts, as one markdown section and JSON.

    python3 bench/distributed_report.py --nudge 1=np1.json 2=np2.json [--torch 1=t1.json 2=t2.json] \
                                        --json out.json --markdown out.md
"""
import argparse
import json
import re


def nudge_rows(path):
    with open(path) as f:
        data = json.load(f)
    rows = {}
    for r in data.get("benchmarks", []):
        name = re.sub(r"/iterations:\d+|/manual_time", "", r["name"])
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[r.get("time_unit", "ns")]
        rows[name] = {"seconds": r["real_time"] * scale, **{k: r[k] for k in
                      ("algbw_GBps", "busbw_GBps", "samples_per_s", "samples_per_s_per_rank") if k in r}}
    return rows


def torch_rows(path):
    with open(path) as f:
        return {r["name"]: r for r in json.load(f)["rows"]}


def pairs(items):
    return {int(k): v for k, v in (item.split("=", 1) for item in items or [])}


def fmt(v, digits=3):
    if v is None:
        return "–"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.{digits}g}"


def fmt_time(s):
    if s is None:
        return "–"
    return f"{s * 1e3:,.2f} ms" if s >= 1e-3 else f"{s * 1e6:,.1f} µs"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(out + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nudge", nargs="+", required=True)
    p.add_argument("--torch", nargs="*")
    p.add_argument("--json", required=True)
    p.add_argument("--markdown", required=True)
    args = p.parse_args()
    nudge = {n: nudge_rows(path) for n, path in pairs(args.nudge).items()}
    torch = {n: torch_rows(path) for n, path in pairs(args.torch).items()}
    most = max(nudge)
    lines = ["## Distributed training (nudge::distributed over MPI, PyTorch DDP over gloo/nccl)", "",
             f"All-reduce of float32 at {most} ranks: busbw = bytes/time · 2(N−1)/N, as nccl-tests reports it.", ""]
    rows = []
    for name, r in nudge[most].items():
        if not name.startswith("allreduce/"):
            continue
        t = torch.get(most, {}).get(name)
        rows.append([int(name.split("/")[1]), name.split("/")[2], fmt_time(r["seconds"]), fmt(r.get("busbw_GBps")),
                     fmt_time(t["seconds"]) if t else "–", fmt(t["busbw_GBps"]) if t else "–",
                     f"{t['seconds'] / r['seconds']:.2f}×" if t else "–"])
    lines += [table(["bytes", "device", "nudge", "busbw GB/s", "PyTorch", "busbw GB/s", "speedup"], rows), ""]
    lines += ["Training step of the 784-256-128-10 MLP (forward, backward with the gradient all-reduce, SGD) per "
              "rank batch; efficiency = samples/s at N ranks / (N × samples/s at 1 rank).", ""]
    rows = []
    for name in nudge[min(nudge)]:
        if not name.startswith("ddp_step/"):
            continue
        one = nudge[min(nudge)][name]
        for n in sorted(nudge):
            r = nudge[n].get(name)
            t, t1 = torch.get(n, {}).get(name), torch.get(min(nudge), {}).get(name)
            if r is None:
                continue
            rows.append([name.split("/")[2], name.split("/")[3], n, fmt(r["samples_per_s"]),
                         f"{r['samples_per_s'] / (n * one['samples_per_s']):.0%}",
                         fmt(t["samples_per_s"]) if t else "–",
                         f"{t['samples_per_s'] / (n * t1['samples_per_s']):.0%}" if t and t1 else "–",
                         f"{r['samples_per_s'] / t['samples_per_s']:.2f}×" if t else "–"])
    lines += [table(["batch/rank", "device", "ranks", "nudge samples/s", "efficiency", "PyTorch samples/s",
                     "efficiency", "nudge/PyTorch"], rows), ""]
    with open(args.markdown, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(args.json, "w") as f:
        json.dump({"nudge": nudge, "pytorch": torch}, f, indent=1)


if __name__ == "__main__":
    main()
