#!/usr/bin/python3
"""The reference plane.py's per-grid-point work, in PyTorch, on the twin of cfg/fashion-cnn.cfg
(scripts/torch_twin.py), for the speed comparison with `darknet plane` (scripts/bench_plane.sh).

Per grid point, as plane.py does it (the authors' plane.py and utils.update_bn):
  * p = w0 + alpha dx u + beta dy v (Gram-Schmidt basis of three parameter vectors), copied into
    the model's parameters;
  * utils.update_bn: reset BN running stats, train mode, one pass over the BN images with momentum
    b / (N_seen + b) per batch (the cumulative average);
  * utils.test on the train images and on the test images: eval mode, NLL, accuracy, and the l2
    term 0.5 wd sum ||p|| (un-squared norms, as plane.py).
Fair to PyTorch, not a copy of the reference's I/O: the images are Fashion-MNIST tensors already
in memory (no DataLoader, no per-image ToTensor), every pass runs under torch.no_grad(), batch 128.
The three networks are random initialisations (seeds 1, 2, 3): the cost does not depend on the
values. Prints "torch_plane: N points in S s, P points/s".

usage: torch_plane.py [--grid 4] [--bn_limit 1000] [--train_limit 1000] [--test_limit 1000]
                      [--threads 2] [--margin 0.2]
"""
import argparse
import gzip
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_twin import make_net  # noqa: E402

FMNIST = "/usr/share/datasets/fashion-mnist"


def idx_images(path, limit):
    with gzip.open(path, "rb") as f:
        data = f.read()
    n, h, w = (int.from_bytes(data[o:o + 4], "big") for o in (4, 8, 12))
    n = min(n, limit) if limit > 0 else n
    x = np.frombuffer(data, np.uint8, n * h * w, 16).reshape(n, 1, h, w)
    return torch.from_numpy(x.astype(np.float32) / 255.0)


def idx_labels(path, limit):
    with gzip.open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[4:8], "big")
    n = min(n, limit) if limit > 0 else n
    return torch.from_numpy(np.frombuffer(data, np.uint8, n, 8).astype(np.int64))


def flat(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def set_flat(model, w):
    off = 0
    for p in model.parameters():
        n = p.numel()
        p.data.copy_(w[off:off + n].view_as(p))
        off += n


def update_bn(model, x, batch):
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    model.train()
    momenta = {}
    for m in bns:
        m.reset_running_stats()
        momenta[m] = m.momentum
    n = 0
    with torch.no_grad():
        for s in range(0, x.shape[0], batch):
            xb = x[s:s + batch]
            b = xb.shape[0]
            for m in bns:
                m.momentum = b / (n + b)
            model(xb)
            n += b
    for m in bns:
        m.momentum = momenta[m]


def test(model, x, y, batch, wd):
    model.eval()
    nll, correct = 0.0, 0
    lossf = nn.CrossEntropyLoss(reduction="sum")
    with torch.no_grad():
        for s in range(0, x.shape[0], batch):
            out = model(x[s:s + batch])
            nll += lossf(out, y[s:s + batch]).item()
            correct += (out.argmax(1) == y[s:s + batch]).sum().item()
        l2 = 0.5 * wd * sum(p.norm() for p in model.parameters()).item()
    n = x.shape[0]
    return nll / n + l2, nll / n, 100.0 * correct / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--grid", type=int, default=4)
    ap.add_argument("--bn_limit", type=int, default=1000)
    ap.add_argument("--train_limit", type=int, default=1000)
    ap.add_argument("--test_limit", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--margin", type=float, default=0.2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--wd", type=float, default=5e-4)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    ntr = max(a.bn_limit, a.train_limit)
    xtr = idx_images(f"{FMNIST}/train-images-idx3-ubyte.gz", ntr)
    ytr = idx_labels(f"{FMNIST}/train-labels-idx1-ubyte.gz", ntr)
    xte = idx_images(f"{FMNIST}/t10k-images-idx3-ubyte.gz", a.test_limit)
    yte = idx_labels(f"{FMNIST}/t10k-labels-idx1-ubyte.gz", a.test_limit)
    ws = []
    for seed in (1, 2, 3):
        torch.manual_seed(seed)
        ws.append(flat(make_net()))
    model = make_net()
    w0, w1, w2 = ws
    dx = (w2 - w0).norm()
    u = (w2 - w0) / dx
    v = (w1 - w0) - torch.dot(u, w1 - w0) * u
    dy = v.norm()
    v = v / dy
    alphas = np.linspace(-a.margin, 1 + a.margin, a.grid)
    betas = np.linspace(-a.margin, 1 + a.margin, a.grid)
    t0 = time.perf_counter()
    for al in alphas:
        for be in betas:
            p = w0 + al * dx * u + be * dy * v
            set_flat(model, p)
            update_bn(model, xtr[:a.bn_limit], a.batch)
            test(model, xtr[:a.train_limit], ytr[:a.train_limit], a.batch, a.wd)
            test(model, xte, yte, a.batch, a.wd)
    dt = time.perf_counter() - t0
    n = a.grid * a.grid
    print(f"torch_plane: PyTorch {torch.__version__}, {a.threads} threads, {n} points in {dt:.2f} s, "
          f"{n / dt:.3f} points/s")


if __name__ == "__main__":
    main()
