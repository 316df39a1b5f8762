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

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "BOOL": torch.bool}

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
    # nudge's bool mask (output > 0) reads as torch.bool with the same values.
    mask_ok = io["positive"].dtype == torch.bool and torch.equal(io["positive"], io["output"] > 0)
    print(f"nudge -> torch: a BOOL mask {'matches' if mask_ok else 'DOES NOT match'}")
    return error <= 1e-5 and mask_ok


def export(directory):
    torch.manual_seed(7)
    model = mlp()
    x = torch.randn(6, 4)
    with torch.no_grad():
        y = model(x)
    save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()}, f"{directory}/torch_model.safetensors")
    save_file({"input": x, "output": y, "positive": y > 0}, f"{directory}/torch_io.safetensors")
    print(f"torch -> nudge: wrote a PyTorch state dict ({READER.replace('reader', 'writer')})")
    return True


def layers(directory):
    """Each layer on fixed float64 weights and inputs: output, input and parameter gradients
    (upstream gradient `upstream`), buffers after a training step, and eval-mode output. nudge's
    Interop.LayersMatchPyTorch loads the same weights and compares (1e-6, float64)."""
    torch.manual_seed(11)
    out = {}

    def run(name, layer, x, eval_input=None, training=True):
        layer = layer.double()
        for p in layer.parameters():  # weights away from their defaults (1s, 0s), so each one matters
            with torch.no_grad():
                p.add_(torch.randn_like(p) * 0.5)
        for k, v in layer.state_dict().items():
            out[f"{name}.state.{k}"] = v.detach().clone()
        x = x.detach().clone()
        if x.is_floating_point():
            x.requires_grad_()
        layer.train(training)
        y = layer(x)
        upstream = torch.randn_like(y)
        y.backward(upstream)
        out[f"{name}.input"] = x.detach()
        out[f"{name}.upstream"] = upstream
        out[f"{name}.output"] = y.detach()
        if x.is_floating_point():
            out[f"{name}.grad_input"] = x.grad
        for k, p in layer.named_parameters():
            out[f"{name}.grad.{k}"] = p.grad
        for k, b in layer.named_buffers():
            out[f"{name}.after.{k}"] = b.detach().clone()
        if eval_input is not None:
            layer.eval()
            with torch.no_grad():
                out[f"{name}.eval_input"] = eval_input
                out[f"{name}.eval_output"] = layer(eval_input)

    d = torch.float64
    run("layernorm", torch.nn.LayerNorm([3, 4]), torch.randn(2, 5, 3, 4, dtype=d))
    run("batchnorm", torch.nn.BatchNorm1d(4), torch.randn(6, 4, dtype=d) * 3 + 1, torch.randn(3, 4, dtype=d))
    run("batchnorm_seq", torch.nn.BatchNorm1d(3, momentum=None), torch.randn(4, 3, 5, dtype=d), torch.randn(2, 3, 5, dtype=d))
    run("embedding", torch.nn.Embedding(10, 3, padding_idx=0), torch.tensor([[1, 0, 3], [3, 9, 0]]))
    # A Dropout + LayerNorm MLP (eval: dropout is the identity, so both sides compute the same).
    mlp = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.LayerNorm(8), torch.nn.GELU(), torch.nn.Dropout(0.3),
                              torch.nn.Linear(8, 2))
    run("mlp", mlp, torch.randn(5, 4, dtype=d), training=False)
    save_file({k: v.contiguous() for k, v in out.items()}, f"{directory}/torch_layers.safetensors")
    print(f"layers: wrote {len(out)} tensors for nudge to compare")
    return True


if __name__ == "__main__":
    action, directory = sys.argv[1], sys.argv[2]
    sys.exit(0 if {"check": check, "export": export, "layers": layers}[action](directory) else 1)
