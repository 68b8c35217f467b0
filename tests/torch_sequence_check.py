#!/usr/bin/env python3
"""Compares nnprobe's sequence layers with PyTorch's in float64.

Runs the dump program (tests/torch_conv_dump.cpp, its path the first argument) with the argument
`sequences`, builds the same layers and small models from torch.nn (Embedding with
padding_idx=0, LayerNorm, Linear, MultiheadAttention(D, H, batch_first=True) called with
q = k = v = x, the batch's key_padding_mask and, for the causal variant, a boolean attn_mask
above the diagonal; the sinusoidal encoding by the formula PyTorch's tutorials use; masked
pooling written out; softmax and log_softmax over the last axis) with the same parameters, and for every padding mask of a case (no
padding, padded to the longest sample, extra padding) requires the output, the gradient of
the input and the gradients of every parameter, given the same upstream gradient, to agree to
1e-9 relative (absolute floor 1e-12; the printed relative difference divides by
max(|nnprobe|, |torch|, 1e-3)).

Every position is compared, the padded ones too: nnprobe computes a padded query as PyTorch
does (it attends to the sample's real keys), and what a padded input position receives as
gradient agrees as well. Padded positions of the input hold random values, not zeros.

Runs under Debian's /usr/bin/python3, where python3-torch installs torch. Without torch it
reports SKIPPED and exits 77, which meson counts as a skipped test, not a passed one.
"""
import json
import math
import subprocess
import sys

RTOL, ATOL = 1e-9, 1e-12

try:
    import torch
except ImportError:
    print("SKIPPED: torch is not importable by", sys.executable,
          "(apt-get install python3-torch, then run with /usr/bin/python3)")
    sys.exit(77)

torch.set_default_dtype(torch.float64)


def sinusoidal(length, d):
    """The encoding as PyTorch's tutorials compute it (their odd-width case cut to fit)."""
    position = torch.arange(length).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d, 2) * (-math.log(10000.0) / d))
    pe = torch.zeros(length, d)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term[: d // 2])
    return pe


class Net:
    """The nodes after the input, each fed by the node before it unless its spec ends in @K."""

    def __init__(self, specs, width):
        self.specs, self.mods, self.width = [], [], width
        widths = [width]
        for spec in specs:
            f = spec.split()
            src = len(widths) - 1
            if f[-1].startswith("@"):
                src = int(f.pop()[1:])
            w, m = widths[src], None
            if f[0] == "embedding":
                m = torch.nn.Embedding(int(f[1]), int(f[2]), padding_idx=0)
                w = int(f[2])
            elif f[0] == "learnedpos":
                m = torch.nn.Parameter(torch.zeros(int(f[1]), w))
            elif f[0] == "layernorm":
                m = torch.nn.LayerNorm(w, eps=1e-5)
            elif f[0] == "dense":
                m = torch.nn.Linear(w, int(f[1]))
                w = int(f[1])
            elif f[0] == "attention":
                m = torch.nn.MultiheadAttention(w, int(f[1]), batch_first=True)
            elif f[0] == "concat":
                w += widths[int(f[1])]
            elif f[0] not in ("identity", "posenc", "tanh", "relu", "softmax", "logsoftmax", "add", "meanpool", "maxpool", "lastpool"):
                raise ValueError(spec)
            self.specs.append((f, src))
            self.mods.append(m)
            widths.append(w)

    def params(self):
        """(node, name, tensor, from_nnprobe) in nnprobe's order."""
        out = []
        for node, ((f, _), m) in enumerate(zip(self.specs, self.mods), start=1):
            if f[0] == "embedding":
                out.append((node, "table", m.weight, lambda t, m=m: t.reshape(m.weight.shape)))
            elif f[0] == "learnedpos":
                out.append((node, "table", m, lambda t, m=m: t.reshape(m.shape)))
            elif f[0] == "layernorm":
                out += [(node, "gain", m.weight, lambda t: t), (node, "bias", m.bias, lambda t: t)]
            elif f[0] == "dense":  # nnprobe stores in x out
                out += [(node, "weight", m.weight, lambda t, m=m: t.reshape(m.in_features, m.out_features).T),
                        (node, "bias", m.bias, lambda t: t)]
            elif f[0] == "attention":  # nnprobe stores D x 3D and D x D: x W, not x W^T
                d = m.embed_dim
                out += [(node, "in_weight", m.in_proj_weight, lambda t, d=d: t.reshape(d, 3 * d).T),
                        (node, "in_bias", m.in_proj_bias, lambda t: t),
                        (node, "out_weight", m.out_proj.weight, lambda t, d=d: t.reshape(d, d).T),
                        (node, "out_bias", m.out_proj.bias, lambda t: t)]
        return out

    def __call__(self, x, lengths):
        b, t = x.shape[0], x.shape[1]
        padded = torch.arange(t).unsqueeze(0) >= lengths.unsqueeze(1)  # True: a padded position
        real = (~padded).unsqueeze(2).to(torch.float64)
        outs = [x]
        for (f, src), m in zip(self.specs, self.mods):
            h = outs[src]
            if f[0] == "embedding":
                y = m(h)
            elif f[0] == "posenc":
                y = h + sinusoidal(t, h.shape[2])
            elif f[0] == "learnedpos":
                y = h + m[:t]
            elif f[0] in ("layernorm", "dense"):
                y = m(h)
            elif f[0] == "attention":
                causal = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1) if f[2] == "1" else None
                y, _ = m(h, h, h, key_padding_mask=padded, attn_mask=causal, need_weights=False)
            elif f[0] == "identity":
                y = h
            elif f[0] == "tanh":
                y = torch.tanh(h)
            elif f[0] == "relu":
                y = torch.relu(h)
            elif f[0] == "softmax":
                y = torch.softmax(h, dim=-1)
            elif f[0] == "logsoftmax":
                y = torch.log_softmax(h, dim=-1)
            elif f[0] == "add":
                y = h + outs[int(f[1])]
            elif f[0] == "concat":
                y = torch.cat([h, outs[int(f[1])]], dim=-1)
            elif f[0] == "meanpool":
                y = (h * real).sum(dim=1) / lengths.unsqueeze(1)
            elif f[0] == "maxpool":
                y = h.masked_fill(padded.unsqueeze(2), -math.inf).max(dim=1).values
            elif f[0] == "lastpool":
                y = h[torch.arange(b), lengths - 1]
            outs.append(y)
        return outs[-1]


def compare(what, ours, theirs, failures):
    ours = torch.as_tensor(ours).reshape(theirs.shape)
    err = (ours - theirs).abs()
    bad = err > ATOL + RTOL * torch.maximum(ours.abs(), theirs.abs())
    rel = (err / torch.maximum(ours.abs(), theirs.abs()).clamp(min=ATOL / RTOL)).max().item()
    if bad.any():
        i = int(bad.flatten().nonzero()[0])
        failures.append(f"{what}: {int(bad.sum())} of {bad.numel()} entries differ, e.g. entry {i}: "
                        f"nnprobe {ours.flatten()[i].item():.17g}, torch {theirs.flatten()[i].item():.17g}")
    return rel


def check(case):
    net = Net(case["layers"], case["width"])
    params = net.params()
    ours = case["params"]
    if [(p["node"], p["name"]) for p in ours] != [(n, name) for n, name, _, _ in params]:
        return [f"parameter lists differ: {[(p['node'], p['name']) for p in ours]}"], 0
    with torch.no_grad():
        for p, (_, _, t, conv) in zip(ours, params):
            t.copy_(conv(torch.tensor(p["value"])))
    failures, worst = [], 0.0
    for run in case["runs"]:
        lengths = torch.tensor(run["lengths"])
        where = f"lengths {run['lengths']}, T = {run['length']}"
        x = torch.tensor(run["x"]).reshape(len(run["lengths"]), run["length"], case["width"])
        if case["ids"]:
            x = x.squeeze(2).long()
        else:
            x.requires_grad_(True)
        for _, _, t, _ in params:
            t.grad = None
        out = net(x, lengths)
        (out * torch.tensor(run["dy"]).reshape(out.shape)).sum().backward()
        worst = max(worst, compare(f"{where}: output", run["output"], out.detach(), failures))
        if not case["ids"]:
            worst = max(worst, compare(f"{where}: input gradient", run["dx"], x.grad, failures))
        for g, (node, name, t, conv) in zip(run["grads"], params):
            worst = max(worst, compare(f"{where}: node {node} {name} gradient", conv(torch.tensor(g)),
                                       t.grad, failures))
    return failures, worst


def main():
    if len(sys.argv) != 2:
        print("usage: torch_sequence_check.py PATH-TO-torch_conv_dump")
        return 2
    dump = subprocess.run([sys.argv[1], "sequences"], check=True, capture_output=True, text=True).stdout
    cases = json.loads(dump)
    ok = True
    for case in cases:
        failures, worst = check(case)
        print(f"{'FAIL' if failures else 'ok  '} {case['name']}: max relative difference {worst:.2e} "
              f"over {len(case['runs'])} masks")
        for f in failures:
            print("     ", f)
        ok = ok and not failures
    print(f"torch {torch.__version__}: {len(cases)} sequence cases, {'all agree' if ok else 'DIFFERENCES'} "
          f"to {RTOL:g} relative")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
