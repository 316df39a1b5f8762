#!/usr/bin/env python3
"""PyTorch's side of bench_distributed: the same rows with torch.distributed (gloo on the CPU, nccl
on GPUs) and torch.nn.parallel.DistributedDataParallel, N processes on this machine.

  torch_ddp_baseline.py --ranks N [--quick] --out FILE.json

Rows: allreduce/<bytes>/<device> (algbw, busbw as nccl-tests) and ddp_step/medium/<batch>/<device>
(forward, backward with DDP's bucketed all-reduce, SGD step of the 784-256-128-10 MLP), one thread
per rank on the CPU, as bench/run runs nudge's ranks.
"""
import argparse
import json
import os
import socket
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(fn, iterations, device):
    fn()
    if device == "cuda":
        torch.cuda.synchronize()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return sum(times) / len(times)


def worker(rank, ranks, port, quick, device, out):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("nccl" if device == "cuda" else "gloo", rank=rank, world_size=ranks)
    dev = torch.device(f"cuda:{rank}") if device == "cuda" else torch.device("cpu")
    rows = []
    size = 4 << 10
    while size <= ((1 << 20) if quick else (64 << 20)):
        t = torch.ones(size // 4, device=dev)
        iterations = 10 if size >= (16 << 20) else (5 if quick else 50)
        seconds = timed(lambda: dist.all_reduce(t), iterations, device)
        algbw = size / seconds / 1e9
        rows.append({"name": f"allreduce/{size}/{device}", "seconds": seconds, "algbw_GBps": algbw,
                     "busbw_GBps": algbw * 2 * (ranks - 1) / ranks, "ranks": ranks})
        size *= 4
    for batch in (256, 1024):
        torch.manual_seed(1)
        model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                    torch.nn.ReLU(), torch.nn.Linear(128, 10)).to(dev)
        ddp = torch.nn.parallel.DistributedDataParallel(model)
        sgd = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        g = torch.Generator().manual_seed(2 + rank)
        x = torch.randn(batch, 784, generator=g).to(dev)
        y = torch.randint(0, 10, (batch,), generator=g).to(dev)

        def step():
            sgd.zero_grad()
            torch.nn.functional.cross_entropy(ddp(x), y).backward()
            sgd.step()

        seconds = timed(step, 3 if quick else 30, device)
        rows.append({"name": f"ddp_step/medium/{batch}/{device}", "seconds": seconds, "ranks": ranks,
                     "samples_per_s": batch * ranks / seconds, "samples_per_s_per_rank": batch / seconds})
    if rank == 0:
        with open(out, "w") as f:
            json.dump({"torch": torch.__version__, "backend": dist.get_backend(), "rows": rows}, f, indent=1)
    dist.barrier()
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    mp.spawn(worker, args=(args.ranks, free_port(), args.quick, args.device, args.out), nprocs=args.ranks)


if __name__ == "__main__":
    main()
