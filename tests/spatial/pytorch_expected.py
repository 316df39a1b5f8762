#!/usr/bin/env python3
"""Prints the PyTorch (1.13, float64) numbers tests/spatial_test.cpp compares with.

Inputs are formulas both sides compute (sin/cos of an index ramp), so nothing but the results is
copied. Each case prints the output values and checksums of the gradients of
sum(out * cos(ramp)): sum(grad * sin(ramp)) for each input.
    /usr/bin/python3 tests/spatial/pytorch_expected.py
"""
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def ramp(*shape, a=0.37, b=0.1, f=torch.sin, scale=1.0):
    n = 1
    for s in shape:
        n *= s
    return (f(torch.arange(n, dtype=torch.float64) * a + b) * scale).reshape(shape).requires_grad_()


def weights_of(out):
    return torch.cos(torch.arange(out.numel(), dtype=torch.float64) * 0.11).reshape(out.shape)


def checksum(t):
    return float((t * torch.sin(torch.arange(t.numel(), dtype=torch.float64) * 0.13).reshape(t.shape)).sum())


def case(name, f, inputs):
    out = f(*inputs)
    (out * weights_of(out)).sum().backward()
    vals = ", ".join(repr(float(v)) for v in out.detach().reshape(-1)[:24])
    grads = ", ".join(repr(checksum(t.grad)) for t in inputs)
    print(f"// {name}: out shape {list(out.shape)}\n{{\"{name}\", {{{vals}}}, {{{grads}}}}},")


case("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=(1, 0), dilation=(1, 2)),
     [ramp(2, 3, 5, 6), ramp(4, 3, 3, 2, a=0.23, f=torch.cos, scale=0.5), ramp(4, a=0.7)])
case("conv2d_groups", lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=2),
     [ramp(1, 4, 4, 4), ramp(6, 2, 3, 3, a=0.23, f=torch.cos, scale=0.5), ramp(6, a=0.7)])
case("conv2d_same", lambda x, w: F.conv2d(x, w, padding="same"),
     [ramp(1, 2, 5, 5), ramp(3, 2, 2, 4, a=0.29, f=torch.cos)])
case("conv1d", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2),
     [ramp(2, 2, 9), ramp(3, 2, 3, a=0.23, f=torch.cos), ramp(3, a=0.7)])
case("conv_transpose2d", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
     [ramp(2, 4, 3, 3), ramp(4, 3, 3, 3, a=0.23, f=torch.cos, scale=0.5), ramp(3, a=0.7)])
case("conv_transpose2d_groups", lambda x, w: F.conv_transpose2d(x, w, stride=(2, 1), groups=2, dilation=(1, 2)),
     [ramp(1, 4, 3, 2), ramp(4, 2, 2, 2, a=0.23, f=torch.cos)])
case("max_pool2d", lambda x: F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True), [ramp(1, 2, 6, 6, a=1.7)])
case("max_pool2d_dilated", lambda x: F.max_pool2d(x, 2, stride=1, dilation=2), [ramp(2, 1, 5, 4, a=1.3)])
case("avg_pool2d_include_pad", lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
     [ramp(1, 2, 6, 6)])
case("avg_pool2d_exclude_pad",
     lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), [ramp(1, 2, 6, 6)])
case("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (3, 4)), [ramp(2, 2, 5, 7)])
case("batch_norm_train", lambda x, w, b: F.batch_norm(x, torch.zeros(3), torch.ones(3), w, b, training=True),
     [ramp(2, 3, 2, 3), ramp(3, a=0.5, f=torch.cos), ramp(3, a=0.9)])
case("group_norm", lambda x, w, b: F.group_norm(x, 3, w, b), [ramp(2, 6, 2, 2), ramp(6, a=0.5, f=torch.cos), ramp(6)])
case("nll_loss", lambda x: F.nll_loss(F.log_softmax(x, 1), torch.tensor([1, 4, -100, 0, 2]),
                                     ramp(5, a=0.5, f=torch.cos, b=2.0).detach()), [ramp(5, 5)])
case("nll_loss_2d", lambda x: F.nll_loss(F.log_softmax(x, 1), torch.tensor([[[0, 2], [1, 1]]]), reduction="none"),
     [ramp(1, 3, 2, 2)])
case("interpolate", lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), [ramp(1, 2, 2, 3)])
case("unfold", lambda x: F.unfold(x, (2, 3), dilation=(2, 1), padding=1, stride=(1, 2)), [ramp(1, 2, 4, 5)])
case("fold", lambda x: F.fold(x, (4, 5), (2, 3), dilation=(2, 1), padding=1, stride=(1, 2)), [ramp(1, 12, 12)])
case("pad", lambda x: F.pad(x, (1, 2, -1, 1), value=0.5), [ramp(1, 2, 3, 3)])
rm, rv = torch.zeros(3), torch.ones(3)
F.batch_norm(ramp(2, 3, 2, 3).detach(), rm, rv, training=True, momentum=0.3)
print("// batch_norm running statistics after one step, momentum 0.3")
print("{" + ", ".join(repr(float(v)) for v in torch.cat([rm, rv])) + "}")
x = ramp(1, 2, 6, 6, a=1.7).detach()
print("// max_pool2d indices")
print("{" + ", ".join(str(int(v)) for v in F.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=True)[1].reshape(-1)) + "}")
