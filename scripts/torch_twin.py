#!/usr/bin/python3
"""PyTorch twin of cfg/fashion-cnn.cfg for the speed comparison.

Same network as the Darknet cfg: 3 x (conv3x3 stride 1 pad 1 without bias -> BatchNorm (affine:
scale + bias, as Darknet's batch_normalize=1) -> ReLU -> maxpool 2/2), widths 32/64/128,
28 -> 14 -> 7 -> 3 (the last Darknet [maxpool] has padding=0, the first two pad by size-1,
which for even sizes changes nothing), flatten 1152 -> Linear 10 (with bias) -> softmax
cross-entropy. SGD lr .05 momentum .9 weight decay 5e-4 (Darknet decays weights only; the cost
of the update is the same). Same batch, same thread count, uniform [0,1) images and random
labels as bench/bench_fast.c. Prints images/s per mode in the same format.

usage: torch_twin.py [--net fashion|vgg16bn|resnet20] [--width 1] [--batch 128] [--iters 10] [--rounds 5] [--min-secs 0] [--threads 1,2] [--what train,eval,bn]
                     [--device cpu|cuda]
--device cuda: on the GPU (cuDNN as PyTorch ships it), synchronised before each clock reading;
the thread count then only affects the host side.
Prints the peak resident memory (ru_maxrss) at the end.
"""
import argparse
import resource
import statistics
import time

import torch
import torch.nn as nn


def make_vgg16bn():
    """Twin of cfg/vgg16-bn.cfg: 13 conv3x3(no bias)+BN+ReLU, 5 maxpools, dropout .5,
    fc512 ReLU, dropout .5, fc512 ReLU, fc10. Input 3x32x32."""
    layers, cin = [], 3
    for v in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"):
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
            continue
        layers += [nn.Conv2d(cin, v, 3, padding=1, bias=False), nn.BatchNorm2d(v, momentum=0.01),
                   nn.ReLU(inplace=True)]
        cin = v
    layers += [nn.Flatten(), nn.Dropout(0.5), nn.Linear(512, 512), nn.ReLU(inplace=True),
               nn.Dropout(0.5), nn.Linear(512, 512), nn.ReLU(inplace=True), nn.Linear(512, 10)]
    return nn.Sequential(*layers)


class Block(nn.Module):
    """Twin of a cfg/resnet20.cfg block: conv3x3(no bias)-BN-relu, conv3x3-BN, + shortcut,
    relu. The shortcut is Darknet's [shortcut] from the block input: where the block halves
    the size and doubles the channels, the input sampled at every 2nd pixel added to the first
    channels (option A, zero padding for the others)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout, momentum=0.01)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout, momentum=0.01)
        self.stride, self.pad = stride, cout - cin

    def forward(self, x):
        y = self.b2(self.c2(torch.relu(self.b1(self.c1(x)))))
        s = x[:, :, ::self.stride, ::self.stride] if self.stride > 1 else x
        if self.pad:
            s = nn.functional.pad(s, (0, 0, 0, 0, 0, self.pad))
        return torch.relu(y + s)


def make_resnet20():
    """Twin of cfg/resnet20.cfg: conv3x3 16 + BN + relu, 3 stages x 3 blocks (16, 32, 64),
    global average pooling, fc10. Input 3x32x32."""
    layers, cin = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16, momentum=0.01),
                   nn.ReLU(inplace=True)], 16
    for cout in (16, 32, 64):
        for b in range(3):
            layers.append(Block(cin, cout, 2 if (b == 0 and cout != cin) else 1))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def make_net(width=1.0):
    layers = []
    cin = 1
    ws = tuple(int(round(w * width)) for w in (32, 64, 128))
    for i, cout in enumerate(ws):
        layers += [nn.Conv2d(cin, cout, 3, stride=1, padding=1, bias=False),
                   nn.BatchNorm2d(cout, eps=1e-5, momentum=0.01),
                   nn.ReLU(inplace=True),
                   nn.MaxPool2d(2, 2)]
        cin = cout
    layers += [nn.Flatten(), nn.Linear(ws[2] * 3 * 3, 10)]
    return nn.Sequential(*layers)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--min-secs", type=float, default=0.0,
                    help="each counted measurement repeats its iterations until it has run this long")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--what", default="train,eval,bn")
    ap.add_argument("--net", default="fashion", choices=["fashion", "vgg16bn", "resnet20"])
    ap.add_argument("--width", type=float, default=1.0, help="fashion: widths 32/64/128 times this")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    a = ap.parse_args()
    torch.manual_seed(12345)
    net = make_net(a.width) if a.net == "fashion" else {"vgg16bn": make_vgg16bn, "resnet20": make_resnet20}[a.net]()
    nparams = sum(p.numel() for p in net.parameters())
    x = torch.rand(a.batch, 1, 28, 28) if a.net == "fashion" else torch.rand(a.batch, 3, 32, 32)
    y = torch.randint(0, 10, (a.batch,))
    dev = torch.device(a.device)
    net, x, y = net.to(dev), x.to(dev), y.to(dev)

    def sync():
        if a.device == "cuda":
            torch.cuda.synchronize()

    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    lossf = nn.CrossEntropyLoss()
    threads = [int(t) for t in a.threads.split(",") if t]
    print(f"torch_twin: {a.net}, PyTorch {torch.__version__}, {nparams} parameters, batch {a.batch}, "
          f"{a.rounds} rounds x {a.iters} iterations per mode, interleaved; "
          f"mkldnn {torch.backends.mkldnn.is_available()}, device {a.device}"
          + (f" ({torch.cuda.get_device_name(0)})" if a.device == "cuda" else ""))

    def step(what):
        if what == "train":
            net.train()
            opt.zero_grad(set_to_none=False)
            loss = lossf(net(x), y)
            loss.backward()
            opt.step()
            return loss
        if what == "eval":
            net.eval()
            with torch.no_grad():
                return net(x)
        # bn: forward in train mode without the loss (what the BN recompute does)
        net.train()
        with torch.no_grad():
            return net(x)

    for what in a.what.split(","):
        ips = {t: [] for t in threads}
        for r in range(-1, a.rounds):
            for t in threads:
                torch.set_num_threads(t)
                it = 1 if r < 0 else a.iters
                sync()
                t0 = time.perf_counter()
                done = 0
                while done < it or (r >= 0 and time.perf_counter() - t0 < a.min_secs):
                    step(what)
                    if a.min_secs > 0:
                        sync()
                    done += 1
                dt = time.perf_counter() - t0
                if r >= 0:
                    ips[t].append(done * a.batch / dt)
        for t in threads:
            v = sorted(ips[t])
            print(f"{what:<6} torch {t}T  median {statistics.median(v):8.1f} img/s  "
                  f"(min {v[0]:7.1f}, max {v[-1]:7.1f})")
    print(f"peak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
