#!/usr/bin/python3
"""Reference trajectories for firstorder's tests, made with torch.optim.

Writes reference.json next to this script. The Go tests read only that file.

  /usr/bin/python3 firstorder/testdata/gen_reference.py

Made with Debian's python3-torch (torch 1.13) and float64 as the default dtype,
so that torch's scalar state (step counts, NAdam's mu product) is float64 too.

Contents:
  - cases: for each optimizer and a set of its settings, the parameters after
    each of STEPS steps on two problems: the extended Rosenbrock function from
    the standard start (gradient by autograd), and a fixed stream of gradients
    that does not depend on the parameters (the stream is stored too).
  - schedules: learning rates from torch.optim.lr_scheduler, one per step.
  - clip: torch.nn.utils.clip_grad_norm_ on a few vectors.
  - composed: Adam with linear warm-up then cosine annealing and gradient
    clipping, on Rosenbrock.

Every optimizer is torch.optim's except AdaBelief, which torch does not have:
AdaBelief below is written here in plain torch tensor ops from the update rule
of the authors' adabelief-pytorch 0.2 (AdaBelief.step), independently of the Go
code. NAdam uses torch 1.13's foreach implementation, because its single-tensor
one multiplies mu_t into the product twice in the momentum term (fixed in
torch 2.0); the script checks that the two differ only there.
"""
import json
import math
import os

import torch

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

STEPS = 60
ROSEN_X0 = [-1.2, 1.0] * 5  # extended Rosenbrock in 10 dimensions
STREAM_DIM = 11
HERE = os.path.dirname(os.path.abspath(__file__))


def rosenbrock(x):
    """sum_i (1 - x_i)^2 + 100 (x_{i+1} - x_i^2)^2, as gonum's ExtendedRosenbrock."""
    return ((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2).sum()


def make_stream():
    """Gradients of mixed scales, some coordinates tiny, one sign-flipping."""
    g = torch.Generator().manual_seed(20240611)
    scales = torch.tensor([1.0, 10.0, 0.1, 1e-3, 1.0, 100.0, 1e-6, 1.0, 3.0, 0.5, 2.0])
    stream = torch.randn(STEPS, STREAM_DIM, generator=g) * scales + 0.3 * scales
    stream[:, 9] = torch.tensor([(-1.0) ** t for t in range(STEPS)])
    return stream


class AdaBelief(torch.optim.Optimizer):
    """AdaBelief with the semantics of adabelief-pytorch 0.2 (reference implementation).

    Per step t for a parameter p with gradient g:
      decoupled decay (default): p *= 1 - lr*wd (or 1 - wd with fixed_decay);
      otherwise g += wd*p;
      m = b1 m + (1-b1) g;  s = b2 s + (1-b2) (g-m)^2;  s += eps (stored)
      amsgrad: s_max = max(s_max, s), denominators use s_max
      unrectified: p += -(lr/bc1) * m / (sqrt(s)/sqrt(bc2) + eps)
      rectify: N = N_max - 2 t b2^t/(1-b2^t);
        N >= 5: p += -(sqrt(bc2 (N-4)/(N_max-4) (N-2)/N N_max/(N_max-2))/bc1 * lr) * m / (sqrt(s) + eps)
        else with degenerated_to_sgd: p += -(1/bc1 * lr) * m; else no update.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-16, weight_decay=0,
                 amsgrad=False, weight_decouple=True, fixed_decay=False, rectify=True,
                 degenerated_to_sgd=True):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad))
        self.weight_decouple = weight_decouple
        self.fixed_decay = fixed_decay
        self.rectify = rectify
        self.degenerated_to_sgd = degenerated_to_sgd

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                g = p.grad.clone()
                st = self.state[p]
                if not st:
                    st["step"] = 0
                    st["m"] = torch.zeros_like(p)
                    st["s"] = torch.zeros_like(p)
                    if group["amsgrad"]:
                        st["s_max"] = torch.zeros_like(p)
                if self.weight_decouple:
                    p.mul_(1.0 - (wd if self.fixed_decay else lr * wd))
                elif wd != 0:
                    g.add_(p, alpha=wd)
                st["step"] += 1
                t = st["step"]
                bc1 = 1 - b1 ** t
                bc2 = 1 - b2 ** t
                m, s = st["m"], st["s"]
                m.mul_(b1).add_(g, alpha=1 - b1)
                r = g - m
                s.mul_(b2).addcmul_(r, r, value=1 - b2)
                s.add_(eps)
                sd = s
                if group["amsgrad"]:
                    torch.maximum(st["s_max"], s, out=st["s_max"])
                    sd = st["s_max"]
                if not self.rectify:
                    p.addcdiv_(m, sd.sqrt() / math.sqrt(bc2) + eps, value=-lr / bc1)
                    continue
                b2t = b2 ** t
                n_max = 2 / (1 - b2) - 1
                n_sma = n_max - 2 * t * b2t / (1 - b2t)
                if n_sma >= 5:
                    k = math.sqrt((1 - b2t) * (n_sma - 4) / (n_max - 4) * (n_sma - 2) / n_sma
                                  * n_max / (n_max - 2)) / bc1
                    p.addcdiv_(m, s.sqrt() + eps, value=-k * lr)
                elif self.degenerated_to_sgd:
                    p.add_(m, alpha=-(1.0 / bc1) * lr)


def torch_opt(name):
    return {
        "SGD": torch.optim.SGD,
        "Adagrad": torch.optim.Adagrad,
        "RMSprop": torch.optim.RMSprop,
        "Adam": torch.optim.Adam,
        "AdamW": torch.optim.AdamW,
        "Adamax": torch.optim.Adamax,
        "NAdam": lambda p, **kw: torch.optim.NAdam(p, foreach=True, **kw),
        "RAdam": torch.optim.RAdam,
        "AdaBelief": AdaBelief,
    }[name]


# Settings in torch's keyword names; {} means the optimizer's defaults. Learning
# rates on Rosenbrock are chosen so the 60 steps move far without diverging.
CONFIGS = {
    "SGD": [
        dict(lr=1e-3),  # torch 1.13 has no default lr; ours is torch 2's 1e-3
        dict(lr=1e-4, momentum=0.9),
        dict(lr=1e-4, momentum=0.9, dampening=0.3, weight_decay=0.05),
        dict(lr=1e-4, momentum=0.8, nesterov=True),
        dict(lr=1e-4, momentum=0.9, nesterov=True, weight_decay=0.01),
        dict(lr=2e-4, weight_decay=0.1),
    ],
    "Adagrad": [
        {},
        dict(lr=0.05, lr_decay=0.01),
        dict(lr=0.05, initial_accumulator_value=0.5, weight_decay=0.02, eps=1e-6),
    ],
    "RMSprop": [
        dict(lr=1e-3),
        dict(lr=1e-3, centered=True),
        dict(lr=1e-4, momentum=0.9),
        dict(lr=1e-4, momentum=0.5, centered=True, weight_decay=0.01, alpha=0.9),
        {},
    ],
    "Adam": [
        {},
        dict(lr=1e-2),
        dict(lr=1e-2, amsgrad=True),
        dict(lr=1e-2, weight_decay=0.1),
        dict(lr=1e-2, betas=(0.0, 0.99), eps=1e-6, weight_decay=0.01, amsgrad=True),
    ],
    "AdamW": [
        {},
        dict(lr=1e-2, weight_decay=0.1),
        dict(lr=1e-2, amsgrad=True),
        dict(lr=1e-2, weight_decay=0.0, betas=(0.8, 0.9)),
    ],
    "Adamax": [
        {},
        dict(lr=1e-2, weight_decay=0.05, betas=(0.5, 0.9)),
    ],
    "NAdam": [
        {},
        dict(lr=1e-2, weight_decay=0.01),
        dict(lr=1e-2, momentum_decay=0.0, betas=(0.95, 0.99)),
    ],
    "RAdam": [
        {},
        dict(lr=2e-3),
        dict(lr=2e-3, weight_decay=0.05, betas=(0.9, 0.9)),
    ],
    "AdaBelief": [
        dict(rectify=False),  # our default: the paper's update, rectification off
        dict(lr=1e-2, rectify=False, eps=1e-12),
        dict(lr=2e-3),  # adabelief-pytorch 0.2 defaults: rectified
        dict(lr=2e-3, degenerated_to_sgd=False),
        dict(lr=1e-2, amsgrad=True, rectify=False),
        dict(lr=2e-3, amsgrad=True),
        dict(lr=1e-2, weight_decay=0.1, rectify=False),
        dict(lr=1e-2, weight_decay=0.1, fixed_decay=True, rectify=False),
        dict(lr=1e-2, weight_decay=0.1, weight_decouple=False, rectify=False),
        dict(lr=2e-3, betas=(0.9, 0.95)),
    ],
}


def run(name, settings, problem, stream):
    x0 = ROSEN_X0 if problem == "rosenbrock" else [0.5] * STREAM_DIM
    p = torch.tensor(x0, requires_grad=True)
    opt = torch_opt(name)([p], **settings)
    traj = []
    for t in range(STEPS):
        if problem == "rosenbrock":
            p.grad = None
            rosenbrock(p).backward()
        else:
            p.grad = stream[t].clone()
        opt.step()
        traj.append(p.detach().tolist())
    return traj


def check_nadam_single_tensor(stream):
    """1.13's single-tensor NAdam differs from foreach only through mu_product_next."""
    def traj(foreach):
        p = torch.tensor([0.5] * STREAM_DIM, requires_grad=True)
        opt = torch.optim.NAdam([p], foreach=foreach)
        out = []
        for t in range(5):
            p.grad = stream[t].clone()
            opt.step()
            out.append(p.detach().clone())
        return out
    a, b = traj(False), traj(True)
    assert not torch.allclose(a[-1], b[-1], rtol=1e-9, atol=0), "torch's single-tensor NAdam was fixed?"


def schedules():
    out = []

    def record(name, kind, params, make, steps=45, base=0.1):
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=base)
        sched = make(opt)
        lrs = []
        for _ in range(steps):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        out.append(dict(name=name, kind=kind, params=params, base=base, lr=lrs))

    S = torch.optim.lr_scheduler
    record("StepLR", "StepDecay", dict(every=7, gamma=0.5), lambda o: S.StepLR(o, step_size=7, gamma=0.5))
    record("StepLR-default-gamma", "StepDecay", dict(every=10), lambda o: S.StepLR(o, step_size=10))
    record("ExponentialLR", "Exponential", dict(gamma=0.93), lambda o: S.ExponentialLR(o, gamma=0.93))
    record("CosineAnnealingLR", "Cosine", dict(steps=45, min=1e-3),
           lambda o: S.CosineAnnealingLR(o, T_max=45, eta_min=1e-3))
    record("LinearLR", "Warmup", dict(steps=10, start=0.1),
           lambda o: S.LinearLR(o, start_factor=0.1, total_iters=10), steps=10)
    record("LinearLR-default-start", "Warmup", dict(steps=6),
           lambda o: S.LinearLR(o, total_iters=6), steps=6)
    record("LinearLR+CosineAnnealingLR", "Warmup+Cosine", dict(steps=8, start=0.25, cosine_steps=37),
           lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.25, total_iters=8),
                                        S.CosineAnnealingLR(o, T_max=37)], milestones=[8]))
    return out


def clip_cases():
    g = torch.Generator().manual_seed(7)
    out = []
    # torch's norm overflows beyond ~1e154 and underflows below ~1e-154; ours does
    # not, so those scales are tested against closed forms in Go instead.
    for n, scale, max_norm in [(5, 1.0, 0.5), (5, 1.0, 100.0), (37, 10.0, 1.0), (1000, 1e-3, 1e-2),
                               (6, 1e100, 1e99)]:
        v = torch.randn(n, generator=g) * scale
        p = torch.zeros(n, requires_grad=True)
        p.grad = v.clone()
        norm = torch.nn.utils.clip_grad_norm_([p], max_norm)
        out.append(dict(grad=v.tolist(), max_norm=max_norm, norm=norm.item(), clipped=p.grad.tolist()))
    return out


def composed():
    """Adam, warm-up then cosine, clipping at norm 50, on Rosenbrock."""
    S = torch.optim.lr_scheduler
    p = torch.tensor(ROSEN_X0, requires_grad=True)
    opt = torch.optim.Adam([p], lr=2e-2)
    sched = S.SequentialLR(opt, [S.LinearLR(opt, start_factor=0.2, total_iters=5),
                                 S.CosineAnnealingLR(opt, T_max=STEPS - 5, eta_min=1e-3)],
                           milestones=[5])
    traj = []
    for _ in range(STEPS):
        p.grad = None
        rosenbrock(p).backward()
        torch.nn.utils.clip_grad_norm_([p], 50.0)
        opt.step()
        sched.step()
        traj.append(p.detach().tolist())
    return dict(lr=2e-2, warmup_steps=5, warmup_start=0.2, cosine_steps=STEPS - 5, cosine_min=1e-3,
                max_norm=50.0, x=traj)


def main():
    stream = make_stream()
    check_nadam_single_tensor(stream)
    cases = []
    for name, configs in CONFIGS.items():
        for settings in configs:
            for problem in ("rosenbrock", "stream"):
                traj = run(name, settings, problem, stream)
                assert all(abs(v) < 10 for row in traj for v in row), (name, settings, problem)
                cases.append(dict(optimizer=name, settings=settings, problem=problem, x=traj))
    ref = dict(
        generator="gen_reference.py with torch " + torch.__version__,
        steps=STEPS,
        rosenbrock_x0=ROSEN_X0,
        stream_x0=[0.5] * STREAM_DIM,
        stream=stream.tolist(),
        cases=cases,
        schedules=schedules(),
        clip=clip_cases(),
        composed=composed(),
    )
    path = os.path.join(HERE, "reference.json")
    with open(path, "w") as f:
        json.dump(ref, f, indent=None, separators=(",", ":"), allow_nan=False)  # floats as repr: exact round trip
        f.write("\n")
    print(f"wrote {path}: {len(cases)} trajectories")


if __name__ == "__main__":
    main()
