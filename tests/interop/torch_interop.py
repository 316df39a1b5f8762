#!/usr/bin/env python3
"""Checkpoints cross between nudge and PyTorch, both ways (run by torch_interop.sh).

  check DIR: load nudge's model.safetensors into the same MLP in PyTorch and compare its outputs
             with nudge's (io.safetensors);
  export DIR: write a PyTorch MLP's state dict and its outputs for nudge to check.

Files are read and written with the `safetensors` package when it is installed and with the
small reader/writer below otherwise (Debian ships torch but not safetensors): either way the
file format, not nudge's own code, is what is tested here.
"""
import json
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64}

try:
    from safetensors.torch import load_file, save_file  # the reference implementation, where installed
    READER = "safetensors.torch"
except ImportError:
    READER = "torch_interop.py's own reader"

    def load_file(path):
        with open(path, "rb") as f:
            data = f.read()
        (n,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8 : 8 + n])
        header.pop("__metadata__", None)
        out = {}
        for name, info in header.items():
            begin, end = info["data_offsets"]
            raw = bytearray(data[8 + n + begin : 8 + n + end])
            t = torch.frombuffer(raw, dtype=DTYPES[info["dtype"]]) if raw else torch.empty(0, dtype=DTYPES[info["dtype"]])
            out[name] = t.reshape(info["shape"]).clone()
        return out

    def save_file(tensors, path):
        header, blobs, offset = {}, [], 0
        for name, t in tensors.items():
            raw = t.contiguous().numpy().tobytes()
            dtype = {v: k for k, v in DTYPES.items()}[t.dtype]
            header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
            blobs.append(raw)
            offset += len(raw)
        text = json.dumps(header).encode()
        text += b" " * (-len(text) % 8)
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def mlp():
    # Same architecture and parameter names as nudge's Sequential(Linear(4, 8), ReLU(), Linear(8, 3)).
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))


def check(directory):
    model = mlp()
    model.load_state_dict(load_file(f"{directory}/model.safetensors"), strict=True)
    io = load_file(f"{directory}/io.safetensors")
    with torch.no_grad():
        got = model(io["input"])
    error = (got - io["output"]).abs().max().item()
    print(f"nudge -> torch: {READER} loaded the nudge checkpoint; max |torch - nudge| = {error:.3g}")
    return error <= 1e-5


def export(directory):
    torch.manual_seed(7)
    model = mlp()
    x = torch.randn(6, 4)
    with torch.no_grad():
        y = model(x)
    save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()}, f"{directory}/torch_model.safetensors")
    save_file({"input": x, "output": y}, f"{directory}/torch_io.safetensors")
    print(f"torch -> nudge: wrote a PyTorch state dict ({READER.replace('reader', 'writer')})")
    return True


if __name__ == "__main__":
    action, directory = sys.argv[1], sys.argv[2]
    sys.exit(0 if {"check": check, "export": export}[action](directory) else 1)
