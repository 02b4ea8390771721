#!/usr/bin/python3
"""Reference values of two losses from PyTorch, for curvature/nn's tests.

Writes torch_losses.json next to this script; the Go tests read only that
file.

  /usr/bin/python3 curvature/nn/testdata/gen_torch_losses.py

Made with Debian's python3-torch (torch 1.13) in float64. Contents:

  - gaussian_nll: outputs z = (mu, s) of N samples with D targets each and
    targets y; torch.nn.GaussianNLLLoss(full=False) with var = exp(s), with
    reduction "sum" and "mean": the values, the gradient of the sum with
    respect to z by autograd, and each sample's Hessian with respect to its
    z (torch.autograd.functional.hessian of that sample's loss).
  - weighted_ce: logits z of N samples with C classes, labels y and class
    weights w; torch.nn.CrossEntropyLoss(weight=w) with reduction "sum" and
    "mean" (which divides by the sum of w[y_i]): the values, the gradients
    with respect to z of both, and each sample's Hessian (reduction "sum"
    on that sample alone).
"""
import json
import os

import torch

torch.set_default_dtype(torch.float64)
torch.manual_seed(20261207)


def gaussian(n, d):
    mu = torch.randn(n, d)
    s = 0.8 * torch.randn(n, d)  # log-variances far above log(eps = 1e-6)
    y = mu + torch.exp(0.5 * s) * torch.randn(n, d) + 0.3 * torch.randn(n, d)
    z = torch.cat([mu, s], dim=1)

    def loss(zz, yy, reduction):
        m, ls = zz[:, :d], zz[:, d:]
        return torch.nn.GaussianNLLLoss(full=False, reduction=reduction)(m, yy, torch.exp(ls))

    zg = z.clone().requires_grad_(True)
    total = loss(zg, y, "sum")
    (grad,) = torch.autograd.grad(total, zg)
    hess = [torch.autograd.functional.hessian(lambda zi: loss(zi.unsqueeze(0), y[i:i + 1], "sum"), z[i]).tolist()
            for i in range(n)]
    return {
        "n": n, "d": d, "z": z.tolist(), "y": y.tolist(),
        "sum": total.item(), "mean": loss(z, y, "mean").item(),
        "grad_sum": grad.tolist(), "hessians": hess,
    }


def weighted_ce(n, c):
    z = 1.5 * torch.randn(n, c)
    y = torch.randint(0, c, (n,))
    w = torch.rand(c) * 2 + 0.1
    out = {"n": n, "c": c, "z": z.tolist(), "y": y.tolist(), "weights": w.tolist()}
    for reduction in ("sum", "mean"):
        zg = z.clone().requires_grad_(True)
        v = torch.nn.CrossEntropyLoss(weight=w, reduction=reduction)(zg, y)
        (g,) = torch.autograd.grad(v, zg)
        out[reduction] = v.item()
        out["grad_" + reduction] = g.tolist()
    out["hessians"] = [
        torch.autograd.functional.hessian(
            lambda zi: torch.nn.CrossEntropyLoss(weight=w, reduction="sum")(zi.unsqueeze(0), y[i:i + 1]), z[i]).tolist()
        for i in range(n)]
    return out


ref = {"torch": torch.__version__, "gaussian_nll": gaussian(5, 3), "weighted_ce": weighted_ce(6, 4)}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_losses.json"), "w") as f:
    json.dump(ref, f, indent=1)
    f.write("\n")
