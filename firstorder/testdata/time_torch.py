#!/usr/bin/python3
"""Per-parameter step cost of torch.optim on this machine, the peer for firstorder's benchmarks.

One thread, float64, a flat parameter of 10k and 1M elements with a fixed gradient; each
optimizer in its default (single-tensor) and foreach implementation. Prints one line per case:
optimizer, implementation, size, median ns per parameter per step. With --all, every
optimizer and variant of firstorder's BenchmarkAll10k that torch has, at 10k, default
implementation, with two gradients in turn as that benchmark does.

Usage (from the repository root, in the same session as `go test -bench`):
  OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1 /usr/bin/python3 firstorder/testdata/time_torch.py [--all]
"""
import argparse
import time

import torch

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

CASES = {
    "SGD-momentum": lambda p, fe: torch.optim.SGD([p], lr=1e-3, momentum=0.9, foreach=fe),
    "Adam": lambda p, fe: torch.optim.Adam([p], lr=1e-3, foreach=fe),
}


# The settings of firstorder's configs_test.go, for BenchmarkAll10k.
ALL = {
    "GD": lambda p: torch.optim.SGD([p], lr=0.05),
    "GD-weight-decay": lambda p: torch.optim.SGD([p], lr=0.05, weight_decay=1e-3),
    "SGD-momentum": lambda p: torch.optim.SGD([p], lr=0.02, momentum=0.9),
    "SGD-momentum-dampening-wd": lambda p: torch.optim.SGD([p], lr=0.02, momentum=0.9, dampening=0.5,
                                                           weight_decay=1e-3),
    "SGD-nesterov": lambda p: torch.optim.SGD([p], lr=0.02, momentum=0.9, nesterov=True),
    "Adagrad": lambda p: torch.optim.Adagrad([p], lr=0.5),
    "RMSprop": lambda p: torch.optim.RMSprop([p], lr=0.03),
    "RMSprop-centered-momentum": lambda p: torch.optim.RMSprop([p], lr=0.002, momentum=0.8, centered=True,
                                                               alpha=0.9),
    "Adam": lambda p: torch.optim.Adam([p], lr=0.05),
    "Adam-amsgrad": lambda p: torch.optim.Adam([p], lr=0.05, amsgrad=True),
    "Adam-L2": lambda p: torch.optim.Adam([p], lr=0.05, weight_decay=1e-3),
    "AdamW": lambda p: torch.optim.AdamW([p], lr=0.05),
    "Adamax": lambda p: torch.optim.Adamax([p], lr=0.05),
    "NAdam": lambda p: torch.optim.NAdam([p], lr=0.05),
    "RAdam": lambda p: torch.optim.RAdam([p], lr=0.05),
}


def per_param_ns(make, n, foreach, min_seconds, grads=1):
    g = torch.Generator().manual_seed(1)
    p = torch.randn(n, generator=g).requires_grad_()
    gs = [torch.randn(n, generator=g) for _ in range(grads)]
    p.grad = gs[0]
    opt = make(p, foreach)
    k = 0

    def step():
        nonlocal k
        if grads > 1:
            p.grad = gs[k % grads]
            k += 1
        opt.step()

    for _ in range(3):  # state allocation and warm caches
        step()
    t0 = time.perf_counter()
    step()
    reps = max(5, int(min_seconds / max(time.perf_counter() - t0, 1e-7)))
    ts = []
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(reps):
            step()
        ts.append((time.perf_counter() - t0) / reps)
    ts.sort()
    return ts[len(ts) // 2] / n * 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,1000000")
    ap.add_argument("--seconds", type=float, default=0.3, help="minimum time per measurement")
    ap.add_argument("--all", action="store_true", help="every optimizer at 10k instead")
    a = ap.parse_args()
    print("torch", torch.__version__, "threads", torch.get_num_threads())
    if a.all:
        for name, make in ALL.items():
            ns = per_param_ns(lambda p, fe: make(p), 10000, False, a.seconds, grads=2)
            print(f"{name:26s} default  n=10000    {ns:7.3f} ns/param")
        return
    for name, make in CASES.items():
        for n in (int(s) for s in a.sizes.split(",")):
            for foreach in (False, True):
                ns = per_param_ns(make, n, foreach, a.seconds)
                impl = "foreach" if foreach else "default"
                print(f"{name:14s} {impl:8s} n={n:<8d} {ns:7.3f} ns/param")


if __name__ == "__main__":
    main()
