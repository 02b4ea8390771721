#!/usr/bin/python3
"""Per-parameter step cost of torch.optim on this machine, the peer for firstorder's benchmarks.

One thread, float64, a flat parameter of 10k and 1M elements with a fixed gradient; each
optimizer in its default (single-tensor) and foreach implementation. Prints one line per case:
optimizer, implementation, size, median ns per parameter per step.

Usage (from the repository root, in the same session as `go test -bench`):
  OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1 /usr/bin/python3 firstorder/testdata/time_torch.py
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


def per_param_ns(make, n, foreach, min_seconds):
    g = torch.Generator().manual_seed(1)
    p = torch.randn(n, generator=g).requires_grad_()
    p.grad = torch.randn(n, generator=g)
    opt = make(p, foreach)
    for _ in range(3):  # state allocation and warm caches
        opt.step()
    reps = max(5, int(min_seconds / max(_time_one(opt), 1e-7)))
    ts = []
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(reps):
            opt.step()
        ts.append((time.perf_counter() - t0) / reps)
    ts.sort()
    return ts[len(ts) // 2] / n * 1e9


def _time_one(opt):
    t0 = time.perf_counter()
    opt.step()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,1000000")
    ap.add_argument("--seconds", type=float, default=0.3, help="minimum time per measurement")
    a = ap.parse_args()
    print("torch", torch.__version__, "threads", torch.get_num_threads())
    for name, make in CASES.items():
        for n in (int(s) for s in a.sizes.split(",")):
            for foreach in (False, True):
                ns = per_param_ns(make, n, foreach, a.seconds)
                impl = "foreach" if foreach else "default"
                print(f"{name:14s} {impl:8s} n={n:<8d} {ns:7.3f} ns/param")


if __name__ == "__main__":
    main()
