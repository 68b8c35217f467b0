#!/usr/bin/python3
"""PyTorch's side of the benchmarks.

Run with Debian's own interpreter, /usr/bin/python3: python3-torch is importable only there.

    /usr/bin/python3 bench/torch_bench.py --data DIR [--runs N] [--workload W1,...] [--smoke]

The same workloads as nnprobe_bench, read from its export (`nnprobe_bench --export DIR`): the
same data, the same initial weights (nnprobe's He-normal / Glorot-uniform draws, zero biases),
plain Adam (weight_decay=0) or plain SGD, the same learning rates and step counts. One thread
(torch.set_num_threads(1)). One JSON line per workload, as nnprobe_bench prints them.
"""
import argparse
import json
import os
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # say so plainly; the caller skips this peer
    print("torch_bench: PyTorch is not importable from %s; install Debian's python3-torch and run "
          "this with /usr/bin/python3" % sys.executable, file=sys.stderr)
    sys.exit(77)

torch.set_num_threads(1)


def peak_rss_kb():
    """Peak resident memory of this process (VmHWM, KiB), not counting the parent's."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def read_manifest(d):
    out = {}
    with open(os.path.join(d, "manifest.txt")) as f:
        for line in f:
            t = line.split()
            if t:
                out[t[0]] = dict(zip(t[1::2], t[2::2]))
    return out


def raw(path, dtype, shape):
    with open(path, "rb") as f:
        buf = bytearray(f.read())
    return torch.frombuffer(buf, dtype=dtype).reshape(shape).clone()


class Case:
    """Data and initial weights of one exported case."""

    def __init__(self, d, f, shape):
        self.rows, self.features = int(f["rows"]), int(f["features"])
        self.hidden, self.classes = int(shape["hidden"]), int(shape["classes"])
        self.x = raw(os.path.join(d, f["x"]), torch.float32, (self.rows, self.features))
        self.y = raw(os.path.join(d, f["y"]), torch.int32, (self.rows,)).long()
        shapes = [(self.features, self.hidden), (self.hidden,), (self.hidden, self.classes), (self.classes,)]
        self.params = [raw(os.path.join(d, f["p%d" % k]), torch.float32, s) for k, s in enumerate(shapes)]

    def model(self):
        """Linear-ReLU-Linear with nnprobe's initial weights (torch stores W as out x in)."""
        m = torch.nn.Sequential(torch.nn.Linear(self.features, self.hidden), torch.nn.ReLU(),
                                torch.nn.Linear(self.hidden, self.classes))
        with torch.no_grad():
            m[0].weight.copy_(self.params[0].t())
            m[0].bias.copy_(self.params[1])
            m[2].weight.copy_(self.params[2].t())
            m[2].bias.copy_(self.params[3])
        return m


class CnnCase:
    """W5/W6: conv 3x3, relu, max pool 2, conv 3x3, relu, global average pool, dense."""

    def __init__(self, d, f):
        self.rows, self.features = int(f["rows"]), int(f["features"])
        self.c, self.h, self.w = int(f["channels"]), int(f["height"]), int(f["width"])
        self.c1, self.c2, self.pad, self.classes = int(f["c1"]), int(f["c2"]), int(f["pad"]), int(f["classes"])
        self.x = raw(os.path.join(d, f["x"]), torch.float32, (self.rows, self.c, self.h, self.w))
        self.y = raw(os.path.join(d, f["y"]), torch.int32, (self.rows,)).long()
        shapes = [(self.c1, self.c, 3, 3), (self.c1,), (self.c2, self.c1, 3, 3), (self.c2,),
                  (self.c2, self.classes), (self.classes,)]
        self.params = [raw(os.path.join(d, f["p%d" % k]), torch.float32, s) for k, s in enumerate(shapes)]

    def model(self):
        nn = torch.nn
        m = nn.Sequential(nn.Conv2d(self.c, self.c1, 3, padding=self.pad), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(self.c1, self.c2, 3, padding=self.pad), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(self.c2, self.classes))
        with torch.no_grad():
            m[0].weight.copy_(self.params[0])
            m[0].bias.copy_(self.params[1])
            m[3].weight.copy_(self.params[2])
            m[3].bias.copy_(self.params[3])
            m[7].weight.copy_(self.params[4].t())
            m[7].bias.copy_(self.params[5])
        return m


class SeqCase:
    """W7: the sequence classifier. Token ids -> Embedding (padding_idx 0) + the sinusoidal table
    -> MultiheadAttention (key_padding_mask) + residual -> LayerNorm -> Linear + ReLU per position
    -> mean over each sample's real positions -> Linear. The batches are nnprobe's, in its step
    order, each padded to its own longest sample; built before the clock starts."""

    def __init__(self, d, f):
        self.rows, self.max_len, self.width = int(f["rows"]), int(f["max_len"]), int(f["width"])
        self.vocab, self.heads, self.hidden, self.classes = int(f["vocab"]), int(f["heads"]), int(f["hidden"]), int(f["classes"])
        batch, count = int(f["batch"]), int(f["batches"])
        tokens = raw(os.path.join(d, f["tokens"]), torch.int32, (self.rows, self.max_len)).long()
        lengths = raw(os.path.join(d, f["lengths"]), torch.int32, (self.rows,)).long()
        y = raw(os.path.join(d, f["y"]), torch.int32, (self.rows,)).long()
        order = raw(os.path.join(d, f["order"]), torch.int32, (count, batch)).long()
        self.pe = raw(os.path.join(d, f["pe"]), torch.float32, (self.max_len, self.width))
        w, h, c = self.width, self.hidden, self.classes
        shapes = [(self.vocab, w), (w, 3 * w), (3 * w,), (w, w), (w,), (w,), (w,), (w, h), (h,), (h, c), (c,)]
        if int(f["params"]) != len(shapes):
            raise SystemExit("torch_bench: W7 exports %s parameters, expected %d" % (f["params"], len(shapes)))
        self.params = [raw(os.path.join(d, f["p%d" % k]), torch.float32, s) for k, s in enumerate(shapes)]
        self.batches = []
        for b in range(count):
            idx = order[b]
            n = lengths[idx]
            length = int(n.max())
            pad = torch.arange(length)[None, :] >= n[:, None]  # True where padded, as key_padding_mask
            keep = (~pad).unsqueeze(-1).float()
            self.batches.append((tokens[idx, :length].contiguous(), pad, keep, n[:, None].float(), y[idx]))

    def model(self):
        return SeqModel(self)


class SeqModel(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        nn = torch.nn
        self.emb = nn.Embedding(c.vocab, c.width, padding_idx=0)
        self.att = nn.MultiheadAttention(c.width, c.heads, batch_first=True)
        self.norm = nn.LayerNorm(c.width)
        self.dense = nn.Linear(c.width, c.hidden)
        self.head = nn.Linear(c.hidden, c.classes)
        self.register_buffer("pe", c.pe.clone())
        p = c.params
        with torch.no_grad():  # nnprobe stores (in x out); torch (out x in)
            self.emb.weight.copy_(p[0])
            self.att.in_proj_weight.copy_(p[1].t())
            self.att.in_proj_bias.copy_(p[2])
            self.att.out_proj.weight.copy_(p[3].t())
            self.att.out_proj.bias.copy_(p[4])
            self.norm.weight.copy_(p[5])
            self.norm.bias.copy_(p[6])
            self.dense.weight.copy_(p[7].t())
            self.dense.bias.copy_(p[8])
            self.head.weight.copy_(p[9].t())
            self.head.bias.copy_(p[10])

    def forward(self, tokens, pad, keep, lengths):
        x = self.emb(tokens) + self.pe[:tokens.shape[1]]
        a, _ = self.att(x, x, x, key_padding_mask=pad, need_weights=False)
        h = F.relu(self.dense(self.norm(x + a)))
        return self.head((h * keep).sum(1) / lengths)


def time_sequences(wid, c, f, steps, runs):
    lr = float(f["lr"])
    res = {"workload": wid, "unit": "us/step", "runs_us": [], "steps": steps}

    def one_run(n):
        m = c.model()
        opt = optimiser(f["opt"], m.parameters(), lr)
        t0 = time.perf_counter()
        for k in range(n):
            tokens, pad, keep, lengths, y = c.batches[k % len(c.batches)]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(m(tokens, pad, keep, lengths), y)
            loss.backward()
            opt.step()
            loss = loss.item()
        t1 = time.perf_counter()
        return m, loss, (t1 - t0) * 1e6 / n

    one_run(min(steps, 20))  # warm-up
    for _ in range(runs):
        m, loss, us = one_run(steps)
        res["runs_us"].append(us)
        res["final_loss"] = loss
        m.eval()
        with torch.no_grad():
            hit = sum((m(t, p, k, n).argmax(1) == y).sum().item() for t, p, k, n, y in c.batches)
        res["accuracy"] = hit / sum(len(b[4]) for b in c.batches)
    return res


def optimiser(name, params, lr):
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)
    return torch.optim.SGD(params, lr=lr, momentum=0, weight_decay=0)


def train_step(m, opt, x, y):
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(m(x), y)
    loss.backward()
    opt.step()
    return loss.item()  # the loss value every step, as nnprobe's trainer::step returns it


def time_training(wid, c, f, steps, runs):
    lr = float(f["lr"])
    res = {"workload": wid, "unit": "us/step", "runs_us": [], "steps": steps}

    def one_run(n):
        m = c.model()
        opt = optimiser(f["opt"], m.parameters(), lr)
        t0 = time.perf_counter()
        for _ in range(n):
            loss = train_step(m, opt, c.x, c.y)
        t1 = time.perf_counter()
        return m, loss, (t1 - t0) * 1e6 / n

    one_run(min(steps, 20))  # warm-up
    for _ in range(runs):
        m, loss, us = one_run(steps)
        res["runs_us"].append(us)
        res["final_loss"] = loss
        with torch.no_grad():
            res["accuracy"] = (m(c.x).argmax(1) == c.y).float().mean().item()
    return res


def run_w4(w):
    """One W4 probe: 20 recorded Adam steps (per-tensor gradient, weight and update norms, and
    non-finite counts of every node's output and gradient), then batch invariance: 3 warm-up
    steps, every node's outputs for the batch, each sample alone, the batch shuffled."""
    tr, inv = w["train"], w["inv"]
    m = tr.model()
    opt = optimiser("adam", m.parameters(), w["lr"])
    series = {name: {k: [] for k in ("grad_norm", "grad_max", "weight_norm", "weight_max",
                                     "delta_norm", "delta_max", "ratio")}
              for name, _ in m.named_parameters()}
    losses, accs, nonfinite = [], [], 0
    for _ in range(w["train_steps"]):
        opt.zero_grad(set_to_none=True)
        h = m[0](tr.x)
        a = m[1](h)
        out = m[2](a)
        for t in (h, a, out):
            t.retain_grad()
        loss = F.cross_entropy(out, tr.y)
        loss.backward()
        losses.append(loss.item())
        accs.append((out.argmax(1) == tr.y).float().mean().item())
        for t in (h, a, out):
            nonfinite += int((~torch.isfinite(t)).sum().item()) + int((~torch.isfinite(t.grad)).sum().item())
        before = {}
        with torch.no_grad():
            for name, p in m.named_parameters():
                s = series[name]
                s["grad_norm"].append(p.grad.norm().item())
                s["grad_max"].append(p.grad.abs().max().item())
                s["weight_norm"].append(p.norm().item())
                s["weight_max"].append(p.abs().max().item())
                before[name] = p.detach().clone()
        opt.step()
        with torch.no_grad():
            for name, p in m.named_parameters():
                s = series[name]
                d = p - before[name]
                s["delta_norm"].append(d.norm().item())
                s["delta_max"].append(d.abs().max().item())
                s["ratio"].append(s["delta_norm"][-1] / s["weight_norm"][-1] if s["weight_norm"][-1] > 0 else 0.0)
    result = {"loss": losses[-1] if nonfinite == 0 else float("nan"), "accuracy": accs[-1]}

    m = inv.model()
    opt = optimiser("adam", m.parameters(), w["lr"])
    for _ in range(w["warmup"]):
        train_step(m, opt, inv.x, inv.y)
    tol = w["tol"]
    with torch.no_grad():
        def nodes(x):
            h = m[0](x)
            a = m[1](h)
            return [x, h, a, m[2](a)]

        ref = nodes(inv.x)
        scale = [max(1.0, r.abs().max().item()) for r in ref]

        def agree(outs, rows, samples):
            for o, r, s in zip(outs, ref, scale):
                d = (o[rows] - r[samples]).abs()
                worst = float("inf") if torch.isnan(d).any().item() else d.max().item()
                if worst > tol * s:
                    return False
            return True

        ok = True
        for s in range(inv.rows):
            if not agree(nodes(inv.x[s:s + 1]), [0], [s]):
                ok = False
                break
        if ok:
            perm = w["perm"]
            ok = agree(nodes(inv.x[perm]), torch.arange(inv.rows), perm)
    result["passed"] = ok
    return result


def time_w4(w, reps, runs):
    res = {"workload": "W4", "unit": "us/probe", "runs_us": [], "steps": reps, "passed": True}

    def once():
        o = run_w4(w)
        res["final_loss"], res["accuracy"] = o["loss"], o["accuracy"]
        res["passed"] = res["passed"] and o["passed"]

    once()  # warm-up
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(reps):
            once()
        res["runs_us"].append((time.perf_counter() - t0) * 1e6 / reps)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="the output of nnprobe_bench --export DIR")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--workload", default="")
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args()
    man = read_manifest(a.data)
    runs = 1 if a.smoke else a.runs

    def wanted(w):
        return not a.workload or w in a.workload

    def steps(f):
        return int(f["smoke_steps" if a.smoke else "steps"])

    def emit(r):
        r["impl"] = "torch"
        r["us"] = statistics.median(r["runs_us"])
        r.setdefault("passed", True)
        r["peak_rss_kb"] = peak_rss_kb()
        print(json.dumps(r), flush=True)

    if wanted("W1"):
        f = man["W1"]
        emit(time_training("W1", Case(a.data, f, f), f, steps(f), runs))
    if wanted("W4"):
        f, fi = man["W4"], man["W4inv"]
        inv = Case(a.data, fi, fi)
        w = {"train": Case(a.data, f, f), "inv": inv, "train_steps": int(f["train_steps"]),
             "warmup": int(fi["warmup"]), "lr": float(f["lr"]), "tol": float(fi["tol"]),
             "perm": raw(os.path.join(a.data, fi["perm"]), torch.int32, (inv.rows,)).long()}
        emit(time_w4(w, steps(f), runs))
    if wanted("W2"):
        f = man["W2"]
        emit(time_training("W2", Case(a.data, f, f), f, steps(f), runs))
    if wanted("W3"):
        f = man["W3"]
        emit(time_training("W3", Case(a.data, f, f), f, steps(f), runs))
    for wid in ("W5", "W6"):
        if wanted(wid) and wid in man:
            f = man[wid]
            emit(time_training(wid, CnnCase(a.data, f), f, steps(f), runs))
    if wanted("W7") and "W7" in man:
        f = man["W7"]
        emit(time_sequences("W7", SeqCase(a.data, f), f, steps(f), runs))


if __name__ == "__main__":
    main()
