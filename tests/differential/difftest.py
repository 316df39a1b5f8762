#!/usr/bin/env python3
"""Differential tester: seeded random small programs run in nudge and in PyTorch, compared.

    difftest.py --interpreter BIN [--seeds A:B] [--fresh] [--time-limit S] [--device cpu|cuda]
                [--float32] [--programs N] [--show N]

Each seed makes one program: 1-3 input tensors (0-d to 3-d, empty dims, ±1e300, NaN, inf, -0.0,
int64 class labels) and 1-5 ops over every public op family (views, broadcasting, reductions,
matmul, linear, softmax, losses, in-place ops, conversions). PyTorch runs it (CPU, float64); nudge
runs it through the interpreter (`nudge_interpreter`, on --device). Compared: which side raises,
shapes, dtypes, values (NaN and inf positions exactly, finite values to a tight tolerance scaled
by the inputs' magnitudes), and the gradients of a fixed weighted sum of the last output.

A difference either matches the documented list (DOCUMENTED below, mirrored in the README's
"Where nudge differs from PyTorch") or fails the run, printed after shrinking to a minimal
program. --float32 runs the programs in float32 and judges nudge and PyTorch against a float64
reference in ulps, failing where nudge is clearly less accurate.

--fresh adds one seed from the clock (printed, so a failure can be replayed with --seeds S:S+1).
Exit 0 when every difference is documented.
"""
import argparse
import json
import math
import random
import re
import struct
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

TORCH_MAJOR = int(torch.__version__.split(".")[0])
FLOAT_OPS_UNARY = ["neg", "exp", "expm1", "log", "log1p", "sqrt", "abs", "sign", "sigmoid", "tanh", "relu"]
# Activations with their parameter choices: name -> (PyTorch call, parameter sets).
ACTIVATIONS = {
    "gelu": (lambda x, o: F.gelu(x), [{}]),
    "gelu_tanh": (lambda x, o: F.gelu(x, approximate="tanh"), [{}]),
    "silu": (lambda x, o: F.silu(x), [{}]),
    "leaky_relu": (lambda x, o: F.leaky_relu(x, o["slope"]), [{"slope": 0.01}, {"slope": 0.2}, {"slope": -0.5}]),
    "softplus": (lambda x, o: F.softplus(x, o["beta"], o["threshold"]), [{"beta": 1.0, "threshold": 20.0},
                                                                       {"beta": 2.0, "threshold": 5.0}]),
    "elu": (lambda x, o: F.elu(x, o["alpha"]), [{"alpha": 1.0}, {"alpha": 0.7}]),
}
COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge"]
FLOAT_OPS_BINARY = ["add", "sub", "mul", "div", "maximum", "minimum"] + COMPARISONS
# Ops on bool masks (and, for the logical ones, any dtype).
MASK_OPS = ["logical_and", "logical_or", "logical_xor", "logical_not", "any", "all", "any_dim", "all_dim", "sum", "mean",
            "where", "masked_fill", "to_float64", "eq", "ne", "max", "argmax_dim"]
SPECIALS = [0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e300, -1e300, 1e-300, math.inf, -math.inf, math.nan]


# ---- encoding --------------------------------------------------------------------------------------

def enc_float(v):
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return float.hex(v)


def dec_float(s):
    s = s.strip()
    if s.lstrip("-") == "nan":
        return math.nan
    return float.fromhex(s)


def weights(n):
    return [((i * 7919) % 13) / 4.0 - 1.5 for i in range(n)]


# ---- running in PyTorch ----------------------------------------------------------------------------

def reduction(o):
    return o.get("reduction", "mean")


def torch_op(name, o, a):
    if name in FLOAT_OPS_UNARY:
        return getattr(torch, name)(a[0])
    if name in ACTIVATIONS:
        if not a[0].is_floating_point():
            raise RuntimeError("activation of an integer tensor")
        return ACTIVATIONS[name][0](a[0], o)
    if name == "pow":
        return torch.pow(a[0], o["exponent"])
    if name in ("add", "sub", "mul", "div", "maximum", "minimum"):
        if a[0].dtype != a[1].dtype:
            raise RuntimeError("mixed dtypes")  # nudge never promotes; the generator avoids these
        if name == "div" and not a[0].is_floating_point():
            raise RuntimeError("integer division")
        return getattr(torch, name)(a[0], a[1])
    if name in COMPARISONS or name in ("logical_and", "logical_or", "logical_xor"):
        if a[0].dtype != a[1].dtype:
            raise RuntimeError("mixed dtypes")
        return getattr(torch, name)(a[0], a[1])
    if name in ("logical_not", "isnan", "any", "all"):
        return getattr(torch, name)(a[0])
    if name in ("any_dim", "all_dim"):
        return getattr(torch, name[:3])(a[0], o["dim"], keepdim=o["keepdim"])
    if name == "where":
        if a[0].dtype != torch.bool or a[1].dtype != a[2].dtype:
            raise RuntimeError("the generator passes a bool condition and values of one dtype")
        return torch.where(a[0], a[1], a[2])
    if name == "masked_fill":
        if a[0].dtype != torch.bool:
            raise RuntimeError("the generator passes a bool mask")
        if not a[1].is_floating_point() and a[1].dtype != torch.bool:
            raise RuntimeError("the generator fills float and bool tensors only")
        return a[1].masked_fill(a[0], o["scalar"])
    if name == "to_float64":
        return a[0].to(torch.float64)
    if name == "add_scalar":
        return a[0] + o["scalar"]
    if name == "mul_scalar":
        return a[0] * o["scalar"]
    if name == "rsub_scalar":
        return o["scalar"] - a[0]
    if name == "rdiv_scalar":
        return o["scalar"] / a[0]
    if name == "clamp_min":
        return torch.clamp_min(a[0], o["scalar"])
    if name == "sum":
        return a[0].sum()
    if name == "sum_dim":
        return a[0].sum(o["dim"], keepdim=o["keepdim"])
    if name == "mean":
        return a[0].mean()
    if name == "mean_dim":
        return a[0].mean(o["dim"], keepdim=o["keepdim"])
    if name == "max":
        return a[0].max()
    if name == "max_dim":
        return a[0].max(o["dim"], keepdim=o["keepdim"]).values
    if name == "max_dim_indices":
        return a[0].max(o["dim"], keepdim=o["keepdim"]).indices
    if name == "argmax":
        return a[0].argmax()
    if name == "argmax_dim":
        return a[0].argmax(o["dim"], keepdim=o["keepdim"])
    if name == "min":
        return a[0].min()
    if name == "min_dim":
        return a[0].min(o["dim"], keepdim=o["keepdim"]).values
    if name == "argmin_dim":
        return a[0].argmin(o["dim"], keepdim=o["keepdim"])
    if name in ("var", "std"):
        if not a[0].is_floating_point():
            raise RuntimeError("var of an integer tensor")
        return getattr(a[0], name)(unbiased=o["unbiased"])
    if name in ("var_dim", "std_dim"):
        if not a[0].is_floating_point():
            raise RuntimeError("var of an integer tensor")
        return getattr(a[0], name[:3])(o["dim"], unbiased=o["unbiased"], keepdim=o["keepdim"])
    if name == "norm":
        if not a[0].is_floating_point():
            raise RuntimeError("norm of an integer tensor")
        return torch.norm(a[0], float(o["p"]))
    if name == "clamp":
        if not a[0].is_floating_point():
            raise RuntimeError("the generator clamps float tensors only")
        return torch.clamp(a[0], o["lo"], o["hi"])
    if name in ("cat", "stack"):
        if a[0].dtype != a[1].dtype:
            raise RuntimeError("mixed dtypes")
        if name == "cat" and (a[0].dim() == 0 or a[0].dim() != a[1].dim()):
            raise RuntimeError("nudge's cat takes tensors of one rank (PyTorch also skips legacy empty 1-d ones)")
        return getattr(torch, name)([a[0], a[1]], o["dim"])
    if name == "where_gt":
        if a[1].dtype != a[2].dtype:
            raise RuntimeError("mixed dtypes")
        return torch.where(a[0] > 0, a[1], a[2])
    if name == "masked_fill_gt":
        if not a[1].is_floating_point():
            raise RuntimeError("the generator fills float tensors only")
        return a[1].masked_fill(a[0] > 0, o["scalar"])
    if name == "index_select":
        return torch.index_select(a[0], o["dim"], a[1])
    if name == "gather":
        return torch.gather(a[0], o["dim"], a[1])
    if name == "split_part":
        if a[0].dim() == 0:
            raise RuntimeError("split of a 0-d tensor")
        return torch.split(a[0], o["size"], o["dim"])[o["part"]]
    if name == "matmul":
        return torch.matmul(a[0], a[1])
    if name == "linear":
        return F.linear(a[0], a[1], a[2] if len(a) > 2 else None)
    if name == "softmax":
        return torch.softmax(a[0], o["dim"])
    if name == "log_softmax":
        return torch.log_softmax(a[0], o["dim"])
    if name == "mse_loss":
        return F.mse_loss(a[0], a[1], reduction=reduction(o)) if a[0].shape == a[1].shape else _shape_error()
    if name == "l1_loss":
        return F.l1_loss(a[0], a[1], reduction=reduction(o)) if a[0].shape == a[1].shape else _shape_error()
    if name == "bce_with_logits":
        return F.binary_cross_entropy_with_logits(a[0], a[1], reduction=reduction(o))
    if name == "bce":
        return F.binary_cross_entropy(a[0], a[1], reduction=reduction(o))
    if name == "cross_entropy":
        if a[0].dim() != 2 or a[1].dim() != 1:
            raise RuntimeError("cross_entropy: nudge takes [N, C] logits only")
        return F.cross_entropy(a[0], a[1], reduction=reduction(o), ignore_index=o.get("ignore_index", -100))
    if name == "nll_loss":
        return F.nll_loss(a[0], a[1], reduction=reduction(o), ignore_index=o.get("ignore_index", -100))
    if name == "max_pool2d":
        return F.max_pool2d(a[0], o["kernel"], o["stride"], o["padding"], ceil_mode=o["ceil_mode"])
    if name == "avg_pool2d":
        return F.avg_pool2d(a[0], o["kernel"], o["stride"], o["padding"], ceil_mode=o["ceil_mode"],
                            count_include_pad=o["count_include_pad"])
    if name == "adaptive_avg_pool2d":
        return F.adaptive_avg_pool2d(a[0], o["size"])
    if name == "conv1d":
        return F.conv1d(a[0], a[1], a[2] if len(a) > 2 else None, o["stride"], o["padding"], o["dilation"], o["groups"])
    if name == "pad":
        return F.pad(a[0], o["pads"], value=o["value"])
    if name == "one_hot":
        return F.one_hot(a[0], o["classes"]).to(torch.float64)
    if name == "view":
        return a[0].view(o["shape"])
    if name == "reshape":
        return a[0].reshape(o["shape"])
    if name == "transpose":
        return a[0].transpose(o["dim0"], o["dim1"])
    if name == "t":
        return a[0].t()
    if name == "permute":
        return a[0].permute(o["dims"])
    if name == "slice":
        if a[0].dim() == 0:
            raise RuntimeError("slice() cannot be applied to a 0-dim tensor")
        index = [slice(None)] * a[0].dim()
        index[o["dim"]] = slice(o["start"], o["end"], o["step"])
        return a[0][tuple(index)]
    if name == "narrow":
        return a[0].narrow(o["dim"], o["start"], o["length"])
    if name == "select":
        return a[0].select(o["dim"], o["index"])
    if name == "unsqueeze":
        return a[0].unsqueeze(o["dim"])
    if name == "squeeze":
        return a[0].squeeze()
    if name == "squeeze_dim":
        return a[0].squeeze(o["dim"])
    if name == "expand":
        return a[0].expand(o["shape"])
    if name == "contiguous":
        return a[0].contiguous()
    if name == "clone":
        return a[0].clone()
    if name == "detach":
        return a[0].detach()
    if name in ("add_", "mul_", "sub_"):
        c = a[0].detach().clone()
        if c.dtype != a[1].dtype:
            raise RuntimeError("mixed dtypes")
        getattr(c, name)(a[1])
        return c
    if name == "fill_":
        c = a[0].detach().clone()
        c.fill_(o["scalar"])
        return c
    if name == "to_int64":
        return a[0].to(torch.int64)
    raise ValueError(f"unknown op {name}")


def _shape_error():
    raise RuntimeError("nudge requires input and target of the same shape")


def make_inputs(program, dtype_override=None):
    tensors = []
    for spec in program["inputs"]:
        dtype = {"float64": torch.float64, "float32": torch.float32, "int64": torch.int64,
                 "bool": torch.bool}[spec.get("dtype", "float64")]
        if dtype_override is not None and dtype.is_floating_point:
            dtype = dtype_override
        if dtype in (torch.int64, torch.bool):
            values = [int(v) for v in spec["values"]]
        else:
            values = [dec_float(v) for v in spec["values"]]
        t = torch.tensor(values, dtype=dtype).reshape(spec["shape"])
        if spec.get("grad") and dtype.is_floating_point:
            t.requires_grad_()
        tensors.append(t)
    return tensors


def run_torch(program, dtype_override=None):
    """The result in the interpreter's format (values as Python numbers, not strings)."""
    values = make_inputs(program, dtype_override)
    inputs = len(values)
    out = {"values": []}
    for at, o in enumerate(program["ops"]):
        try:
            values.append(torch_op(o["op"], o, [values[i] for i in o["args"]]))
        except Exception as e:  # noqa: BLE001 - any PyTorch error is "raises"
            return {"error": str(e).split("\n")[0], "at": at, "values": out["values"]}
        out["values"].append(tensor_result(values[-1]))
    out["grads"] = []
    last = values[-1]
    if len(values) > inputs and last.requires_grad and last.is_floating_point():
        try:
            w = torch.tensor(weights(last.numel()), dtype=last.dtype).reshape(last.shape)
            (last * w).sum().backward()
        except Exception as e:  # noqa: BLE001
            out["backward_error"] = str(e).split("\n")[0]
            return out
    for t in values[:inputs]:
        out["grads"].append(tensor_result(t.grad) if t.grad is not None else None)
    return out


def tensor_result(t):
    t = t.detach()
    dtype = {torch.float64: "float64", torch.float32: "float32", torch.int64: "int64", torch.bool: "bool"}[t.dtype]
    return {"shape": list(t.shape), "dtype": dtype, "values": t.reshape(-1).tolist()}


def decode_nudge(result):
    for group in ("values", "grads"):
        for r in result.get(group) or []:
            if r is None:
                continue
            if r["dtype"] in ("int64", "bool"):
                r["values"] = [int(v) for v in r["values"]]
            else:
                r["values"] = [dec_float(v) for v in r["values"]]
    return result


class Nudge:
    """The interpreter as a persistent process: one program per line, one result per line."""

    def __init__(self, binary):
        self.binary = binary
        self.start()

    def start(self):
        self.proc = subprocess.Popen([self.binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def run(self, program):
        try:
            self.proc.stdin.write(json.dumps(program) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except BrokenPipeError:
            line = ""
        if not line:  # the interpreter died: a crash is a failure of its own
            code = self.proc.wait()
            self.start()
            return {"crash": f"interpreter exited with {code}"}
        return decode_nudge(json.loads(line))


# ---- program generation --------------------------------------------------------------------------

def random_value(rng, special_rate):
    if rng.random() < special_rate:
        return rng.choice(SPECIALS)
    return round(rng.gauss(0, 2), rng.choice([1, 3, 17]))


def random_shape(rng):
    rank = rng.choice([0, 1, 1, 2, 2, 2, 3])
    return [rng.choice([0, 1, 1, 2, 3, 3, 4]) if rng.random() < 0.9 else rng.choice([1, 2, 3]) for _ in range(rank)]


def random_input(rng, dtype, special_rate):
    shape = random_shape(rng)
    n = math.prod(shape)
    if rng.random() < 0.06:
        return {"shape": shape, "dtype": "bool", "values": [rng.choice(["0", "1"]) for _ in range(n)], "grad": False}
    if rng.random() < 0.15:
        values = [rng.choice([-100, -1, 0, 0, 1, 1, 2, 3]) for _ in range(n)]
        return {"shape": shape, "dtype": "int64", "values": [str(v) for v in values], "grad": False}
    if rng.random() < 0.15:  # probabilities, for bce
        values = [rng.choice([0.0, 1.0, rng.random(), rng.random()]) for _ in range(n)]
    else:
        values = [random_value(rng, special_rate) for _ in range(n)]
    if dtype == "float32":
        values = [struct.unpack("f", struct.pack("f", v))[0] if math.isfinite(v) and abs(v) < 3e38 else
                  (v if not math.isfinite(v) else math.copysign(math.inf, v)) for v in values]
    return {"shape": shape, "dtype": dtype, "values": [enc_float(v) for v in values], "grad": rng.random() < 0.7}


def pick_dim(rng, t, allow_bad=0.03):
    if rng.random() < allow_bad:
        return rng.choice([t.dim(), -t.dim() - 1, 5])
    if t.dim() == 0:
        return rng.choice([0, -1])
    return rng.randrange(-t.dim(), t.dim())


def random_op(rng, values):
    """An op dict over existing tensor indices (it may be invalid: PyTorch decides)."""
    floats = [i for i, t in enumerate(values) if t.is_floating_point()]
    ints = [i for i, t in enumerate(values) if t.dtype == torch.int64]
    masks = [i for i, t in enumerate(values) if t.dtype == torch.bool]
    anyt = list(range(len(values)))
    pick = rng.choice
    if masks and rng.random() < 0.3:
        return random_mask_op(rng, values, masks, anyt)
    kind = rng.random()
    if kind < 0.22 and floats:
        i = pick(floats)
        name = pick(FLOAT_OPS_UNARY + list(ACTIVATIONS) +
                    ["pow", "clamp_min", "add_scalar", "mul_scalar", "rsub_scalar", "rdiv_scalar"])
        o = {"op": name, "args": [i]}
        if name in ACTIVATIONS:
            o.update(pick(ACTIVATIONS[name][1]))
        if name == "pow":
            o["exponent"] = pick([0.0, 0.5, -0.5, 1.0, 2.0, 3.0, -1.0, 1 / 3, 2.5])
        elif name in ("clamp_min", "add_scalar", "mul_scalar", "rsub_scalar", "rdiv_scalar"):
            o["scalar"] = pick([0.0, 1.0, -1.0, 0.5, 2.0, -3.0])
        return o
    if kind < 0.40:
        pool = floats if rng.random() < 0.85 else ints
        if not pool:
            return None
        a = pick(pool)
        same = [i for i in pool if values[i].dtype == values[a].dtype]
        name = pick(FLOAT_OPS_BINARY if pool is floats else ["add", "sub", "mul", "maximum", "minimum", "eq", "lt", "gt"])
        return {"op": name, "args": [a, pick(same)]}
    if kind < 0.55:
        i = pick(anyt)
        t = values[i]
        name = pick(["sum", "sum_dim", "mean", "mean_dim", "max", "max_dim", "max_dim_indices", "argmax", "argmax_dim",
                     "min", "min_dim", "argmin_dim", "var", "var_dim", "std", "std_dim", "norm", "clamp"])
        o = {"op": name, "args": [i]}
        if name.endswith("_dim") or name == "max_dim_indices":
            o["dim"] = pick_dim(rng, t)
            o["keepdim"] = rng.random() < 0.4
        if name.startswith(("var", "std")):
            o["unbiased"] = rng.random() < 0.7
        if name == "norm":
            o["p"] = pick([1.0, 2.0, "inf"])
        if name == "clamp":
            o["lo"], o["hi"] = pick([(-1.0, 1.0), (0.0, None), (None, 0.5), (2.0, -1.0)])
        return o
    if kind < 0.75:
        i = pick(anyt)
        t = values[i]
        name = pick(["view", "reshape", "transpose", "t", "permute", "slice", "narrow", "select", "unsqueeze", "squeeze",
                     "squeeze_dim", "expand", "contiguous", "clone", "detach"])
        o = {"op": name, "args": [i]}
        n = t.numel()
        if name in ("view", "reshape"):
            shapes = [[n], [-1], [1, n], [n, 1]] + ([[2, n // 2]] if n % 2 == 0 else []) + ([[n // 3, 3]] if n % 3 == 0 else [])
            o["shape"] = pick(shapes) if t.dim() else pick([[1], [-1], []])
        elif name == "transpose":
            o["dim0"], o["dim1"] = pick_dim(rng, t), pick_dim(rng, t)
        elif name == "permute":
            dims = list(range(t.dim()))
            rng.shuffle(dims)
            o["dims"] = dims
        elif name == "slice":
            o["dim"] = pick_dim(rng, t)
            o["start"], o["end"], o["step"] = pick([0, 1, -1, -5]), pick([1, 2, 3, -1, 9]), pick([1, 1, 2, 3])
        elif name == "narrow":
            o["dim"] = pick_dim(rng, t)
            o["start"], o["length"] = pick([0, 1, -1]), pick([0, 1, 2])
        elif name == "select":
            o["dim"] = pick_dim(rng, t)
            o["index"] = pick([0, 1, -1, 2])
        elif name in ("unsqueeze",):
            o["dim"] = rng.randrange(-t.dim() - 1, t.dim() + 1)
        elif name == "squeeze_dim":
            o["dim"] = pick_dim(rng, t)
        elif name == "expand":
            o["shape"] = [pick([-1, 2, 3]) if s == 1 else -1 for s in t.shape] if t.dim() else [pick([1, 2])]
            if rng.random() < 0.3:
                o["shape"] = [2] + o["shape"]
        return o
    if kind < 0.80 and rng.random() < 0.5:
        name = pick(["cat", "stack", "where_gt", "masked_fill_gt", "index_select", "gather", "split_part"])
        i = pick(anyt)
        t = values[i]
        if name in ("cat", "stack"):
            j = pick(anyt)
            return {"op": name, "args": [i, j], "dim": pick_dim(rng, t) if name == "cat" else
                    rng.randrange(-t.dim() - 1, t.dim() + 1)}
        if name in ("where_gt", "masked_fill_gt"):
            args = [i, pick(anyt)] + ([pick(anyt)] if name == "where_gt" else [])
            o = {"op": name, "args": args}
            if name == "masked_fill_gt":
                o["scalar"] = pick([0.0, -1.5, 2.0])
            return o
        if name in ("index_select", "gather"):
            if not ints:
                return None
            return {"op": name, "args": [i, pick(ints)], "dim": pick_dim(rng, t)}
        return {"op": name, "args": [i], "dim": pick_dim(rng, t), "size": pick([1, 2, 3]), "part": pick([0, -1])}
    if kind < 0.85 and floats:
        name = pick(["matmul", "linear", "softmax", "log_softmax"])
        if name in ("softmax", "log_softmax"):
            i = pick(floats)
            return {"op": name, "args": [i], "dim": pick_dim(rng, values[i])}
        a, b = pick(floats), pick(floats)
        if values[a].dtype != values[b].dtype:
            return None
        if name == "linear":
            args = [a, b]
            if rng.random() < 0.6:
                c = pick(floats)
                if values[c].dtype == values[a].dtype:
                    args.append(c)
            return {"op": "linear", "args": args}
        return {"op": name, "args": [a, b]}
    if kind < 0.95 and floats:
        name = pick(["mse_loss", "l1_loss", "bce_with_logits", "bce", "cross_entropy", "one_hot"])
        red = pick(["mean", "sum", "none"])
        if name == "cross_entropy":
            if not ints:
                return None
            o = {"op": name, "args": [pick(floats), pick(ints)], "reduction": red}
            if rng.random() < 0.3:
                o["ignore_index"] = pick([0, 1, -1])
            return o
        if name == "one_hot":
            return {"op": name, "args": [pick(ints)], "classes": pick([1, 2, 4])} if ints else None
        a, b = pick(floats), pick(floats)
        if values[a].dtype != values[b].dtype:
            return None
        return {"op": name, "args": [a, b], "reduction": red}
    if kind < 0.975 and floats:  # images and sequences (rank ≤ 3: unbatched [C, H, W], or [N, C, L])
        name = pick(["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "conv1d", "pad", "nll_loss"])
        i = pick(floats)
        if name in ("max_pool2d", "avg_pool2d"):
            o = {"op": name, "args": [i], "kernel": pick([1, 2, 3]), "stride": pick([1, 2]), "padding": pick([0, 1]),
                 "ceil_mode": pick([False, True])}
            if name == "avg_pool2d":
                o["count_include_pad"] = pick([False, True])
            return o
        if name == "adaptive_avg_pool2d":
            return {"op": name, "args": [i], "size": [pick([1, 2, 3]), pick([1, 2, 3])]}
        if name == "pad":
            return {"op": name, "args": [i], "pads": [pick([-1, 0, 1, 2]) for _ in range(pick([2, 4]))],
                    "value": pick([0.0, -1.5])}
        if name == "nll_loss":
            if not ints:
                return None
            o = {"op": name, "args": [i, pick(ints)], "reduction": pick(["mean", "sum", "none"])}
            if rng.random() < 0.3:
                o["ignore_index"] = pick([0, 1, -1])
            return o
        w = pick(floats)
        if values[w].dtype != values[i].dtype:
            return None
        args = [i, w]
        if rng.random() < 0.5:
            b = pick(floats)
            if values[b].dtype == values[i].dtype:
                args.append(b)
        return {"op": "conv1d", "args": args, "stride": pick([1, 2]), "padding": pick([0, 1]),
                "dilation": pick([1, 2]), "groups": pick([1, 1, 2])}
    # in-place and conversions (the operand never requires grad: nudge records no in-place op)
    name = pick(["add_", "mul_", "sub_", "fill_", "to_int64"])
    i = pick(anyt)
    if name == "fill_":
        return {"op": name, "args": [i], "scalar": pick([0.0, 1.5, -2.0, 1e300, math.inf])}
    if name == "to_int64":
        return {"op": name, "args": [i]} if values[i].is_floating_point() else None
    others = [j for j in anyt if not values[j].requires_grad and values[j].dtype == values[i].dtype]
    return {"op": name, "args": [i, pick(others)]} if others else None


def random_mask_op(rng, values, masks, anyt):
    """An op that reads a bool mask: logic, counting, selecting, converting."""
    pick = rng.choice
    name = pick(MASK_OPS)
    i = pick(masks)
    if name in ("logical_and", "logical_or", "logical_xor", "eq", "ne"):
        return {"op": name, "args": [i, pick(masks if rng.random() < 0.8 else anyt)]}
    if name in ("any_dim", "all_dim", "argmax_dim"):
        return {"op": name, "args": [i], "dim": pick_dim(rng, values[i]), "keepdim": rng.random() < 0.4}
    if name == "where":
        a = pick(anyt)
        same = [j for j in anyt if values[j].dtype == values[a].dtype]
        return {"op": name, "args": [i, a, pick(same)]}
    if name == "masked_fill":
        return {"op": name, "args": [i, pick(anyt)], "scalar": pick([0.0, -1.5, 1.0])}
    return {"op": name, "args": [i]}


def generate(seed, dtype="float64"):
    rng = random.Random(seed)
    special_rate = rng.choice([0.0, 0.1, 0.3])
    program = {"inputs": [random_input(rng, dtype, special_rate) for _ in range(rng.randint(1, 3))], "ops": []}
    values = make_inputs(program)
    for _ in range(rng.randint(1, 5)):
        for _attempt in range(20):
            o = random_op(rng, values)
            if o is None:
                continue
            if "scalar" in o and o["scalar"] in (math.inf, -math.inf):
                o["scalar"] = 1e300 * (1 if o["scalar"] > 0 else -1)  # JSON has no inf
            try:
                result = torch_op(o["op"], o, [values[i] for i in o["args"]])
            except Exception:  # noqa: BLE001
                if rng.random() < 0.15:  # keep some failing ops: both sides must raise
                    program["ops"].append(o)
                    return program
                continue
            program["ops"].append(o)
            values.append(result)
            break
    return program


# ---- comparison -------------------------------------------------------------------------------------

def magnitude(program, upto):
    """The largest finite |value| among the inputs: the scale a reordered sum may err by."""
    m = 1.0
    for spec in program["inputs"]:
        if spec.get("dtype") in ("int64", "bool"):
            continue
        for v in spec["values"]:
            x = dec_float(v)
            if math.isfinite(x):
                m = max(m, abs(x))
    return m


def near_overflow(program):
    return magnitude(program, None) > 1e150


def compare_values(a, b, scale, rtol, what, atol_factor=1e-12):
    """a: PyTorch's, b: nudge's. None when they agree."""
    if a is None or b is None:
        return None if a is None and b is None else f"{what}: one side has no value (torch {a is None}, nudge {b is None})"
    if a["shape"] != b["shape"]:
        return f"{what}: shape {a['shape']} vs nudge {b['shape']}"
    if a["dtype"] != b["dtype"]:
        return f"{what}: dtype {a['dtype']} vs nudge {b['dtype']}"
    for k, (x, y) in enumerate(zip(a["values"], b["values"])):
        if isinstance(x, int) and isinstance(y, int):
            if x != y:
                return f"{what}[{k}]: {x} vs nudge {y}"
            continue
        if math.isnan(x) or math.isnan(y):
            if not (math.isnan(x) and math.isnan(y)):
                return f"{what}[{k}]: {x} vs nudge {y} (NaN position)"
            continue
        if math.isinf(x) or math.isinf(y):
            if x != y:
                return f"{what}[{k}]: {x} vs nudge {y} (inf position)"
            continue
        if abs(x - y) > 1e-300 + rtol * abs(x) + atol_factor * scale:
            return f"{what}[{k}]: {x!r} vs nudge {y!r}"
    return None


def compare(program, t, n, rtol=1e-9):
    atol_factor = 1e-12 if rtol < 1e-6 else 1e-5  # float32 runs: absolute error at the inputs' scale
    """A difference as (message, op index or None), or None."""
    if "crash" in n:
        return (f"nudge crashed: {n['crash']}", None)
    t_err, n_err = "error" in t, "error" in n
    if t_err or n_err:
        if t_err and n_err and t["at"] == n["at"]:
            return None
        return (f"raises: torch {t.get('error', 'no error')!r} at {t.get('at')}, nudge {n.get('error', 'no error')!r} "
                f"at {n.get('at')}", min(t.get("at", 99), n.get("at", 99)))
    scale = magnitude(program, None)
    for k, (a, b) in enumerate(zip(t["values"], n["values"])):
        d = compare_values(a, b, scale, rtol, f"op {k} ({program['ops'][k]['op']}) value", atol_factor)
        if d:
            return (d, k)
    if ("backward_error" in t) != ("backward_error" in n):
        return (f"backward raises: torch {t.get('backward_error')!r}, nudge {n.get('backward_error')!r}", None)
    for k, (a, b) in enumerate(zip(t.get("grads", []), n.get("grads", []))):
        # float32 gradients through ill-conditioned chains differ by percents between any two
        # implementations (PyTorch's own float32 and float64 do): there only gross errors count.
        grad_rtol = max(rtol, 1e-7) if rtol < 1e-6 else 0.1
        d = compare_values(a, b, scale, grad_rtol, f"gradient of input {k}", atol_factor)
        if d:
            return (d, None)
    return None


# Differences nudge makes on purpose (README: "Where nudge differs from PyTorch, and why").
def documented(program, t, n, message):
    ops = [o["op"] for o in program["ops"]]
    nerr = n.get("error", "")
    if "to_int64" in ops and "value" in message:
        return "float -> int64 of NaN/inf/out-of-range saturates (NaN -> 0) on every device; PyTorch's CPU gives INT64_MIN"
    if "bce_with_logits" in ops and "NaN position" in message and "nan vs nudge" in message and \
            "nudge 0.0" not in message.replace("-0.0", "0.0"):
        return "BCE with logits on non-finite targets: nudge gives the linear term's limit, PyTorch NaN"
    if "bce_with_logits" in ops and "NaN position" in message and "nan vs nudge 0.0" in message.replace("-0.0", "0.0"):
        return "BCE with logits at x = ±inf where the true loss is 0: nudge 0, PyTorch NaN"
    if "error" in n and "error" not in t and "view" in nerr and ("stride" in nerr or "contiguous" in nerr):
        return "view of a non-contiguous result: nudge's elementwise outputs are row-major, PyTorch keeps strides"
    if "error" in n and "error" not in t and "expand" in nerr:
        return "writing into an expanded tensor"
    if "gelu" in ops and "gradient" in message and program["inputs"][0]["dtype"] == "float32":
        # torch.ops.aten.gelu_backward(g.t(), x) is all zeros in float32 on this PyTorch 1.13 build.
        return "PyTorch 1.13's float32 GELU backward returns zeros for a non-contiguous upstream gradient (its bug)"
    if any(o["op"] == "norm" and o["p"] == "inf" for o in program["ops"]) and message.startswith("gradient") and \
            re.search(r": nan vs nudge -?0\.0", message):
        return ("a NaN upstream gradient through the ∞-norm: PyTorch multiplies it by the mask of largest elements "
                "(NaN everywhere), nudge selects (NaN at those elements, 0 elsewhere), as for max")
    if "elu" in ops and message.startswith("gradient") and "NaN position" in message:
        # F.elu(x).backward() at x = NaN: 1.0 for a 3-element x, NaN for a 16-element one (verified).
        return "ELU's gradient at a NaN input: PyTorch 1.13 gives g in its scalar loop, NaN in its vectorised one; nudge g"
    if {"var", "var_dim", "std", "std_dim"} & set(ops) and (
            ("gradient" in message and "nudge nan" in message) or
            (message.startswith("backward raises") and ("StdBackward" in message or "VarBackward" in message))):
        return ("var/std of at most one element (NaN on both sides): PyTorch 1.13's gradient is ±inf or a shape "
                "error, nudge's NaN")
    if "pad" in ops and message.startswith("backward raises") and "negative padding" in message:
        return ("pad's gradient after a negative (cropping) pad of a dim that ends up empty: PyTorch 1.13's backward "
                "raises a negative output size; nudge's gradient is the crop's (zeros)")
    if "nll_loss" in ops and "error" in n and "error" not in t and "nll_loss: the target" in nerr:
        return ("nll_loss of a 1-D input [C] takes a 0-d target (one sample), as PyTorch 2 documents; PyTorch 1.13 "
                "also accepts other target shapes there")
    if "adaptive_avg_pool2d" in ops and "error" not in n and "non-zero size for non-batch" in t.get("error", ""):
        return ("adaptive_avg_pool2d of an empty plane is NaN (the mean of nothing) on nudge; PyTorch 1.13 gives NaN "
                "for some such shapes and raises for others")
    if "conv1d" in ops and re.search(r"value: shape \[\d+, 0, \d+\] vs nudge", message):
        return ("a convolution over zero input channels: nudge gives the empty sum, zeros of [N, C_out, L]; PyTorch "
                "1.13 returns an empty tensor")
    reducing = {"sum", "sum_dim", "mean", "mean_dim", "matmul", "linear", "softmax", "log_softmax", "mse_loss",
                "l1_loss", "bce_with_logits", "bce", "cross_entropy"}
    if near_overflow(program) and reducing & set(ops) and not message.startswith("raises"):
        return "summation order near overflow (inputs beyond 1e150): reordered sums round or overflow differently"
    if any(o["op"] == "one_hot" and o["classes"] < 1 for o in program["ops"]):
        return "one_hot(x, -1) infers the class count in PyTorch; nudge asks for it"
    if message.startswith("gradient") and any(len(set(o["args"])) < len(o["args"]) for o in program["ops"]) and \
            re.search(r": (-?0\.0) vs nudge|vs nudge (-?0\.0)$", message):
        return ("gradient cancellation: a tensor feeding two operands of one op sums contributions of opposite sign, "
                "exact 0 on one side and a last-ulp residue on the other")
    has_nonfinite = any(not math.isfinite(dec_float(v)) for spec in program["inputs"] if spec.get("dtype") != "int64"
                        for v in spec["values"])
    if "cross_entropy" in ops and message.startswith("gradient") and "nan vs nudge" in message:
        return ("cross-entropy's gradient at a −inf logit under an infinite upstream gradient: nudge (softmax − onehot)·g, "
                "PyTorch's log-softmax chain 0·inf = NaN")
    if ("bce" in ops and TORCH_MAJOR < 2 and not message.startswith("raises") and "position" not in message):
        return "binary_cross_entropy uses log1p(−p) (as PyTorch 2 does); PyTorch 1.13 computes log(1 − p)"
    nudge_first = "error" in n and ("error" not in t or t["at"] > n["at"])
    if nudge_first and "matmul: supports 1-D, 2-D and 3-D" in nerr:
        return "matmul takes 1-D to 3-D operands (batched 3-D); PyTorch broadcasts any number of batch dims"
    if nudge_first and ("linear: bias" in nerr or "linear: input" in nerr):
        return "linear takes weight [out, in] and bias [out]; PyTorch's F.linear also takes a 1-D weight, any bias shape"
    terr = t.get("error", "")
    if nudge_first and "arithmetic on a bool tensor" in nerr:
        return "arithmetic on bool masks is refused (PyTorch promotes them, or reads + as or): .to(dtype) or logical ops"
    torch_first = "error" in t and ("error" not in n or n["at"] > t["at"])
    if torch_first and "mean(): could not infer output dtype" in terr:
        return "mean of a bool mask is the fraction that is true (float32); PyTorch asks for a cast first"
    if torch_first and re.search(r"arg(max|min)_cpu\" not implemented for 'Bool'", terr):
        return "argmax/argmin of a bool mask give the first True (False); PyTorch 1.13 has no kernel for them"
    if "error" in n and "error" not in t and "in-place" in nerr and "requires grad" in nerr:
        return "in-place ops are never recorded: refused on tensors that require grad"
    return None


# ---- shrinking --------------------------------------------------------------------------------------

def referenced(program):
    used = set()
    for o in program["ops"]:
        used.update(o["args"])
    return used


def without_op(program, k):
    """The program with op k removed (indices of later tensors shifted down), or None."""
    base = len(program["inputs"])
    removed = base + k
    p = json.loads(json.dumps(program))
    ops = []
    for j, o in enumerate(p["ops"]):
        if j == k:
            continue
        if removed in o["args"]:
            return None
        o["args"] = [a - 1 if a > removed else a for a in o["args"]]
        ops.append(o)
    p["ops"] = ops
    return p if ops else None


def without_input(program, k):
    p = json.loads(json.dumps(program))
    if k in referenced(p):
        return None
    del p["inputs"][k]
    for o in p["ops"]:
        o["args"] = [a - 1 if a > k else a for a in o["args"]]
    return p


def shrink(program, fails):
    """A smaller program that still fails (fails(program) -> message or None)."""
    current = program
    changed = True
    while changed:
        changed = False
        for k in reversed(range(len(current["ops"]))):
            candidate = without_op(current, k)
            if candidate and fails(candidate):
                current, changed = candidate, True
        for k in reversed(range(len(current["inputs"]))):
            candidate = without_input(current, k)
            if candidate and fails(candidate):
                current, changed = candidate, True
        for spec in current["inputs"]:
            if spec.get("grad"):
                spec["grad"] = False
                if fails(current):
                    changed = True
                else:
                    spec["grad"] = True
            for i, v in enumerate(spec["values"]):
                for simple in (["0", "1"] if spec.get("dtype") in ("int64", "bool") else [enc_float(0.0), enc_float(1.0)]):
                    if v == simple:
                        break
                    spec["values"][i] = simple
                    if fails(current):
                        changed = True
                        break
                    spec["values"][i] = v
    return current


# ---- float32 accuracy -------------------------------------------------------------------------------

def ulp32(x):
    x = abs(x)
    if x == 0 or not math.isfinite(x):
        return 2.0 ** -149
    bits = struct.unpack("I", struct.pack("f", x))[0]
    exponent = (bits >> 23) & 0xFF
    return 2.0 ** (max(exponent, 1) - 150)


ULP_JUDGED = set(FLOAT_OPS_UNARY + ["pow", "add", "sub", "mul", "div", "softmax", "log_softmax", "mse_loss", "l1_loss",
                                    "bce_with_logits", "bce", "cross_entropy", "sum", "sum_dim", "mean", "mean_dim",
                                    "add_scalar", "mul_scalar", "rsub_scalar", "rdiv_scalar"])


def accuracy_problem(program, t32, t64, n32):
    """Where nudge's float32 value is clearly further from the float64 reference than PyTorch's."""
    if any("error" in r for r in (t32, t64, n32)):
        return None
    inputs = len(program["inputs"])
    for k, o in enumerate(program["ops"]):
        # Judged only where every operand is a program input: both sides then start from the same
        # float32 numbers, and the float64 run of the same op is the exact reference.
        if o["op"] not in ULP_JUDGED or any(a >= inputs for a in o["args"]):
            continue
        ref, tv, nv = t64["values"][k], t32["values"][k], n32["values"][k]
        if ref["dtype"] in ("int64", "bool") or len(ref["values"]) != len(nv["values"]):
            continue
        floor_scale = max([abs(x) for x in ref["values"] if math.isfinite(x)] + [0.0])
        for i, (r, a, b) in enumerate(zip(ref["values"], tv["values"], nv["values"])):
            if not all(math.isfinite(v) for v in (r, a, b)) or abs(r) > 3e38:
                continue
            # The floor: cancelling ops (sub, sum) are judged against the scale of their results.
            unit = max(ulp32(r), ulp32(floor_scale) if o["op"] not in FLOAT_OPS_UNARY else 0)
            err_n, err_t = abs(b - r) / unit, abs(a - r) / unit
            if err_n > 4 and err_n > 2 * err_t + 2:
                return (f"op {k} ({o['op']})[{i}]: nudge {b!r} is {err_n:.1f} ulp from the float64 value {r!r}, "
                        f"PyTorch {a!r} {err_t:.1f} ulp")
    return None


# ---- main -------------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interpreter", required=True)
    parser.add_argument("--seeds", default="0:300", help="A:B, seeds A..B-1")
    parser.add_argument("--fresh", action="store_true", help="also one seed from the clock, printed")
    parser.add_argument("--time-limit", type=float, default=300)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--float32", action="store_true")
    parser.add_argument("--show", type=int, default=5, help="failures to shrink and print")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start, end = (int(x) for x in args.seeds.split(":"))
    seeds = list(range(start, end))
    if args.fresh:
        fresh = int(time.time() * 1000) % 2**31
        print(f"difftest: fresh seed {fresh} (replay: --seeds {fresh}:{fresh + 1})", flush=True)
        seeds.append(fresh)
    nudge = Nudge(args.interpreter)
    deadline = time.monotonic() + args.time_limit
    counts = {"programs": 0, "agree": 0, "documented": 0, "failed": 0, "both_raise": 0}
    reasons, failures = {}, []
    dtype = "float32" if args.float32 else "float64"
    for seed in seeds:
        if time.monotonic() > deadline:
            print(f"difftest: time limit reached after {counts['programs']} programs", flush=True)
            break
        program = generate(seed, dtype)
        program["device"] = args.device
        counts["programs"] += 1
        t = run_torch(program)
        n = nudge.run(program)
        if args.float32:
            problem = compare(program, t, n, rtol=1e-3)  # agreement; accuracy is judged in ulps below
            if problem is None:
                t64 = run_torch(program, torch.float64)
                acc = accuracy_problem(program, t, t64, n)
                problem = (acc, None) if acc else None
        else:
            problem = compare(program, t, n)
        if problem is None:
            counts["agree"] += 1
            counts["both_raise"] += "error" in t
            continue
        why = documented(program, t, n, problem[0])
        if why:
            counts["documented"] += 1
            reasons[why] = reasons.get(why, 0) + 1
            continue
        counts["failed"] += 1
        failures.append((seed, program, problem[0]))
    kinds = {}
    for seed, _, message in failures:
        kinds.setdefault(message.split(":")[0][:40] + " " + message.split("'")[1][:40] if "'" in message else message[:60], seed)
    if failures:
        print("failure kinds (first seed of each):", flush=True)
        for kind, seed in kinds.items():
            print(f"  seed {seed}: {kind}", flush=True)
    for seed, program, message in failures[: args.show]:
        def fails(p, message=message):
            p = dict(p, device=args.device)
            tt, nn_ = run_torch(p), nudge.run(p)
            d = compare(p, tt, nn_, rtol=1e-3 if args.float32 else 1e-9)
            if d is None and args.float32:
                acc = accuracy_problem(p, tt, run_torch(p, torch.float64), nn_)
                d = (acc, None) if acc else None
            return d is not None and not documented(p, tt, nn_, d[0])
        small = shrink(program, fails)
        print(f"\nFAILED seed {seed}: {message}\n  minimal program: {json.dumps(small)}", flush=True)
    print(f"\ndifftest ({dtype}, nudge on {args.device}): {counts['programs']} programs, {counts['agree']} agree "
          f"({counts['both_raise']} raise in both), {counts['documented']} documented differences, "
          f"{counts['failed']} undocumented")
    for why, k in sorted(reasons.items(), key=lambda kv: -kv[1]):
        print(f"  documented ({k}): {why}")
    print(f"{counts['agree'] + counts['documented']} passed, {counts['failed']} failed")
    sys.exit(1 if counts["failed"] else 0)


if __name__ == "__main__":
    main()
