#!/usr/bin/env python3
"""Compares nnprobe's convolutional layers with PyTorch's in float64.

Runs the dump program (tests/torch_conv_dump.cpp, its path the first argument), builds the same
networks from torch.nn (Conv2d, MaxPool2d, AvgPool2d, BatchNorm2d, Linear) with the same
parameters and input, and requires the outputs, the loss (cross-entropy, mean), the gradients
of the input and of every parameter, and the batch-norm running statistics to agree to 1e-9
relative (with an absolute floor of 1e-12 for entries near zero; the printed relative
difference divides by max(|nnprobe|, |torch|, 1e-3)).

Runs under Debian's /usr/bin/python3, where python3-torch installs torch. Without torch it
reports SKIPPED and exits 77, which meson counts as a skipped test, not a passed one.
"""
import json
import subprocess
import sys
import warnings

RTOL, ATOL = 1e-9, 1e-12

try:
    import torch
except ImportError:
    print("SKIPPED: torch is not importable by", sys.executable,
          "(apt-get install python3-torch, then run with /usr/bin/python3)")
    sys.exit(77)

torch.set_default_dtype(torch.float64)
# PyTorch warns that an even kernel with padding="same" copies the input; that is the case tested.
warnings.filterwarnings("ignore", message="Using padding='same'")


def build(case):
    c, h, w = (int(v) for v in case["input_shape"].split("x"))
    mods, shape = [], (c, h, w)
    for spec in case["layers"]:
        f = spec.split()
        if f[0] == "conv":
            out, k, s = int(f[1]), int(f[2]), int(f[3])
            pad = "same" if f[4] == "same" else int(f[4])
            d, bias = int(f[6]), f[7] == "1"
            m = torch.nn.Conv2d(shape[0], out, k, stride=s, padding=pad, dilation=d, bias=bias)
        elif f[0] == "maxpool":
            m = torch.nn.MaxPool2d(int(f[1]), stride=int(f[2]))
        elif f[0] == "avgpool":
            m = torch.nn.AvgPool2d(int(f[1]), stride=int(f[2]))
        elif f[0] == "globalavg":
            m = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
        elif f[0] == "batchnorm":
            m = torch.nn.BatchNorm2d(shape[0], momentum=0.1, eps=1e-5)
        elif f[0] == "relu":
            m = torch.nn.ReLU()
        elif f[0] == "tanh":
            m = torch.nn.Tanh()
        elif f[0] == "flatten":
            m = torch.nn.Flatten()
        elif f[0] == "dense":
            m = torch.nn.Linear(int(torch.tensor(shape).prod()), int(f[1]))
        else:
            raise ValueError(spec)
        mods.append(m)
        with torch.no_grad():  # in eval mode: a training pass would move the running statistics
            shape = tuple(m.eval()(torch.zeros((2,) + tuple(shape))).shape[1:])
    return mods


def params_of(mods):
    """(node, name, tensor, to_torch) in nnprobe's order: per node weight then bias."""
    out = []
    for node, m in enumerate(mods, start=1):
        if isinstance(m, torch.nn.Conv2d):
            out.append((node, "weight", m.weight, lambda t, m=m: t.reshape(m.weight.shape)))
            if m.bias is not None:
                out.append((node, "bias", m.bias, lambda t: t))
        elif isinstance(m, torch.nn.Linear):
            out.append((node, "weight", m.weight,
                        lambda t, m=m: t.reshape(m.in_features, m.out_features).T))  # stored in x out
            out.append((node, "bias", m.bias, lambda t: t))
        elif isinstance(m, torch.nn.BatchNorm2d):
            out.append((node, "gamma", m.weight, lambda t: t))
            out.append((node, "beta", m.bias, lambda t: t))
    return out


def compare(what, ours, theirs, failures):
    ours = (ours if torch.is_tensor(ours) else torch.tensor(ours)).reshape(theirs.shape)
    err = (ours - theirs).abs()
    bad = err > ATOL + RTOL * torch.maximum(ours.abs(), theirs.abs())
    rel = (err / torch.maximum(ours.abs(), theirs.abs()).clamp(min=ATOL / RTOL)).max().item()
    if bad.any():
        i = int(bad.flatten().nonzero()[0])
        failures.append(f"{what}: {int(bad.sum())} of {bad.numel()} entries differ, e.g. entry {i}: "
                        f"nnprobe {ours.flatten()[i].item():.17g}, torch {theirs.flatten()[i].item():.17g}")
    return rel


def check(case):
    mods = build(case)
    net = torch.nn.Sequential(*mods).train()
    params = params_of(mods)
    ours = case["params"]
    if [(p["node"], p["name"]) for p in ours] != [(n, name) for n, name, _, _ in params]:
        return [f"parameter lists differ: {[(p['node'], p['name']) for p in ours]}"], 0
    with torch.no_grad():
        for p, (_, _, t, conv) in zip(ours, params):
            t.copy_(conv(torch.tensor(p["value"])))
    c, h, w = (int(v) for v in case["input_shape"].split("x"))
    x = torch.tensor(case["x"]).reshape(-1, c, h, w).requires_grad_(True)
    out = net(x)
    loss = torch.nn.functional.cross_entropy(out, torch.tensor(case["y"]))
    loss.backward()
    failures, worst = [], 0.0
    worst = max(worst, compare("output", case["output"], out.detach(), failures))
    worst = max(worst, compare("loss", [case["loss"]], loss.detach().reshape(1), failures))
    worst = max(worst, compare("input gradient", case["dx"], x.grad, failures))
    for p, (node, name, t, conv) in zip(ours, params):
        worst = max(worst, compare(f"node {node} {name} gradient", conv(torch.tensor(p["grad"])), t.grad, failures))
    for r in case["running"]:
        bn = mods[r["node"] - 1]
        worst = max(worst, compare(f"node {r['node']} running mean", r["mean"], bn.running_mean, failures))
        worst = max(worst, compare(f"node {r['node']} running var", r["var"], bn.running_var, failures))
    return failures, worst


def main():
    if len(sys.argv) != 2:
        print("usage: torch_conv_check.py PATH-TO-torch_conv_dump")
        return 2
    cases = json.loads(subprocess.run([sys.argv[1]], check=True, capture_output=True, text=True).stdout)
    ok = True
    for case in cases:
        failures, worst = check(case)
        print(f"{'FAIL' if failures else 'ok  '} {case['name']}: max relative difference {worst:.2e}")
        for f in failures:
            print("     ", f)
        ok = ok and not failures
    print(f"torch {torch.__version__}: {len(cases)} networks, {'all agree' if ok else 'DIFFERENCES'} "
          f"to {RTOL:g} relative")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
