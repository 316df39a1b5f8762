#!/usr/bin/env python3
"""The PyTorch baseline: the same workloads as bench_ops / bench_training, with the same names,
timed the same way (CUDA events on the GPU, wall clock on the CPU), written as Google Benchmark
JSON so bench/report.py can put nudge and PyTorch side by side.

    python3 bench/torch_baseline.py --out torch.json [--quick] [--devices cpu,cuda]

GPU rows run eager and, for the training steps, captured in a CUDA graph (torch.cuda.graph).
"""
import argparse
import json
import os
import platform
import time

import torch
import torch.nn.functional as F


def timed(device, fn, min_time):
    """Mean seconds per call of fn, after warm-up, over at least min_time seconds."""
    for _ in range(3):
        fn()
    if device == "cuda":
        torch.cuda.synchronize()
    iterations, total = 0, 0.0
    while total < min_time or iterations < 3:
        if device == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            total += start.elapsed_time(end) / 1e3
        else:
            t0 = time.perf_counter()
            fn()
            total += time.perf_counter() - t0
        iterations += 1
    return total / iterations, iterations


def flush_l2(device, scratch):
    if device == "cuda":
        scratch.zero_()


class Mlp(torch.nn.Module):
    def __init__(self, widths, tiny):
        super().__init__()
        layers = []
        for i in range(len(widths) - 1):
            layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
            last = i + 2 == len(widths)
            if tiny:
                layers.append(torch.nn.Sigmoid())
            elif not last:
                layers.append(torch.nn.ReLU())
        self.net = torch.nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def training_rows(device, quick, min_time, rows):
    runs = [("tiny_2-16-1", [2, 16, 1], True, [4]),
            ("medium_784-256-128-10", [784, 256, 128, 10], False, [64] if quick else [64, 256, 1024, 4096])]
    if not quick:
        runs.append(("large_4096-4096-4096-10", [4096, 4096, 4096, 10], False,
                     [1024, 2048, 4096, 8192] if device == "cuda" else [1024]))
    for name, widths, tiny, batches in runs:
        for batch in batches:
            torch.manual_seed(0)
            model = Mlp(widths, tiny).to(device)
            opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
            x = torch.randn(batch, widths[0], device=device)
            y = torch.rand(batch, 1, device=device) if tiny else torch.arange(batch, device=device) % 10
            loss_fn = torch.nn.MSELoss() if tiny else torch.nn.CrossEntropyLoss()

            def step():
                opt.zero_grad(set_to_none=False)
                loss = loss_fn(model(x), y)
                loss.backward()
                opt.step()
                return loss

            base = f"train/{name}/b{batch}/{device}"
            seconds, iters = timed(device, step, min_time)
            rows.append(row(base + "/eager", seconds, iters, samples=batch))
            if device == "cuda":
                # PyTorch's recipe: warm up on a side stream, then capture the whole step.
                side = torch.cuda.Stream()
                side.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(side):
                    for _ in range(3):
                        step()
                torch.cuda.current_stream().wait_stream(side)
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph):
                    step()
                seconds, iters = timed(device, graph.replay, min_time)
                rows.append(row(base + "/graph", seconds, iters, samples=batch))


def op_rows(device, quick, min_time, rows):
    scratch = torch.empty(64 << 20, device=device) if device == "cuda" else None
    sizes = [1 << 10, 1 << 16] if quick else [1 << 10, 1 << 14, 1 << 18, 1 << 22, 1 << 26, 1 << 28]
    for n in sizes:
        a, b = torch.ones(n, device=device), torch.ones(n, device=device)
        flush = n >= (1 << 22)
        for name, fn, nbytes in [("add", lambda: a + b, 12 * n), ("sigmoid", lambda: torch.sigmoid(a), 8 * n),
                                 ("exp", lambda: torch.exp(a), 8 * n), ("tanh", lambda: torch.tanh(a), 8 * n),
                                 ("sum", lambda: a.sum(), 4 * n)]:
            def work(fn=fn):
                if flush:
                    flush_l2(device, scratch)
                return fn()
            # The flush is inside the timed call here; subtract its own time.
            seconds, iters = timed(device, work, min_time)
            if flush:
                seconds -= timed(device, lambda: flush_l2(device, scratch), min_time)[0]
            rows.append(row(f"op/{name}/n{n}/{device}", seconds, iters, bytes=nbytes))
        del a, b
    squares = [64, 256] if quick else ([64, 128, 256, 512, 1024, 2048, 4096, 8192] if device == "cuda"
                                       else [64, 128, 256, 512, 1024, 2048])
    shapes = [(f"matmul/{n}", n, n, n) for n in squares]
    shapes += [(f"matmul/mlp_784x256/b{b}", b, 256, 784) for b in ([64] if quick else [64, 1024, 4096])]
    if not quick:
        shapes += [(f"matmul/mlp_4096x4096/b{b}", b, 4096, 4096) for b in ([1024, 8192] if device == "cuda" else [1024])]
    vocab, dim = 50000, 512
    table = torch.randn(vocab, dim, device=device)
    for batch in ([1024] if quick else [1024, 65536]):
        index = torch.randint(0, vocab, (batch,), device=device)
        seconds, iters = timed(device, lambda: torch.index_select(table, 0, index), min_time)
        rows.append(row(f"op/index_select/{vocab}x{dim}/b{batch}/{device}", seconds, iters,
                        bytes=2.0 * 4 * batch * dim + 8.0 * batch))
    del table
    # The CNN example's second convolution, its pooling and a batch norm of its output (bench_ops.cpp).
    conv_flops = 2.0 * 64 * 32 * 14 * 14 * 16 * 5 * 5
    x, w, bias = (torch.randn(64, 16, 14, 14, device=device), torch.randn(32, 16, 5, 5, device=device),
                  torch.randn(32, device=device))
    with torch.no_grad():
        seconds, iters = timed(device, lambda: F.conv2d(x, w, bias, padding=2), min_time)
    rows.append(row(f"op/conv2d/b64_16x14x14_k5_32/{device}", seconds, iters, flops=conv_flops))
    xg, wg, bg = (t.clone().requires_grad_() for t in (x, w, bias))
    seconds, iters = timed(device, lambda: F.conv2d(xg, wg, bg, padding=2).sum().backward(), min_time)
    rows.append(row(f"op/conv2d_fwd_bwd/b64_16x14x14_k5_32/{device}", seconds, iters, flops=3 * conv_flops))
    y = torch.randn(64, 32, 14, 14, device=device)
    mean, var = torch.zeros(32, device=device), torch.ones(32, device=device)
    with torch.no_grad():
        seconds, iters = timed(device, lambda: F.max_pool2d(y, 2), min_time)
        rows.append(row(f"op/max_pool2d/b64_32x14x14_k2/{device}", seconds, iters, bytes=4.0 * y.numel() * 1.25))
        seconds, iters = timed(device, lambda: F.batch_norm(y, mean, var, training=True), min_time)
        rows.append(row(f"op/batch_norm_train/b64_32x14x14/{device}", seconds, iters, bytes=2.0 * 4 * y.numel()))
    torch.backends.cuda.matmul.allow_tf32 = False
    for name, m, n, k in shapes:
        a, b = torch.randn(m, k, device=device), torch.randn(k, n, device=device)
        seconds, iters = timed(device, lambda: a @ b, min_time)
        rows.append(row(f"op/{name}/{device}", seconds, iters, flops=2.0 * m * n * k))


def row(name, seconds, iterations, bytes=None, flops=None, samples=None):
    r = {"name": name, "run_type": "iteration", "iterations": iterations, "real_time": seconds * 1e6,
         "cpu_time": seconds * 1e6, "time_unit": "us"}
    if bytes:
        r["GB/s"] = bytes / seconds / 1e9
    if flops:
        r["TFLOP/s"] = flops / seconds / 1e12
    if samples:
        r["samples/s"] = samples / seconds
    return r


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--devices", default="cpu,cuda")
    parser.add_argument("--min-time", type=float, default=None)
    args = parser.parse_args()
    min_time = args.min_time if args.min_time is not None else (0.02 if args.quick else 0.5)
    devices = [d for d in args.devices.split(",") if d == "cpu" or torch.cuda.is_available()]
    rows = []
    for device in devices:
        training_rows(device, args.quick, min_time, rows)
        op_rows(device, args.quick, min_time, rows)
    context = {"library": "torch " + torch.__version__, "host_name": platform.node(),
               "num_cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
               "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    with open(args.out, "w") as f:
        json.dump({"context": context, "benchmarks": rows}, f, indent=1)


if __name__ == "__main__":
    main()
