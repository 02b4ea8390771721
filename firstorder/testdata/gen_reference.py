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
  - cases with "maximize": torch's flag, where torch 1.13 has it (all but
    NAdam and RAdam, which gained it in torch 2), on the stream and on
    "neg-rosenbrock", the negated Rosenbrock function (whose ascent converges).
  - cases with "param_groups": the parameters split into tensors, each in the
    torch parameter group of its span, with the group's lr and weight_decay
    the optimizer's times lr_scale and wd_scale; parameters in no span are not
    given to torch and stay where they start.
  - "average" of the ASGD cases: torch's state["ax"] after each step.
  - lbfgs: torch.optim.LBFGS, with and without line_search_fn="strong_wolfe",
    on Rosenbrock (value and gradient in gonum's order of operations, see
    rosenbrock_explicit) and on a logistic regression (autograd): the
    parameters, the loss step() returns, the counters func_evals and n_iter
    and the rest of the optimizer's state (d, t, prev_flat_grad, the pairs
    old_stps and old_dirs with ro, H_diag) after each step().

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
        "Adadelta": torch.optim.Adadelta,
        "Rprop": torch.optim.Rprop,
        "ASGD": torch.optim.ASGD,
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
    "Adadelta": [
        {},
        dict(lr=0.5, rho=0.5, eps=1e-4),
        dict(rho=0.95, weight_decay=0.1),
        dict(lr=2.0, rho=0.0),
    ],
    "Rprop": [
        dict(lr=1e-3),
        {},
        dict(lr=1e-3, etas=(0.3, 1.5), step_sizes=(1e-4, 0.02)),
        dict(lr=0.1, step_sizes=(0.0, 0.05)),
    ],
    "ASGD": [
        dict(lr=1e-3),
        dict(lr=1e-3, lambd=0.5, alpha=0.6, t0=20.0),
        dict(lr=2e-3, t0=0.0, weight_decay=0.05),
        dict(lr=1e-3, lambd=0.0, alpha=0.0, t0=45.0),
    ],
}

# torch.optim's maximize flag, on the optimizers of torch 1.13 that have it.
MAXIMIZE = {
    "SGD": [dict(lr=1e-4, momentum=0.9, maximize=True), dict(lr=2e-4, weight_decay=0.1, maximize=True),
            dict(lr=1e-4, momentum=0.9, nesterov=True, weight_decay=0.01, maximize=True)],
    "Adagrad": [dict(lr=0.05, weight_decay=0.02, maximize=True)],
    "RMSprop": [dict(lr=1e-3, maximize=True), dict(lr=1e-4, momentum=0.5, centered=True, weight_decay=0.01, maximize=True)],
    "Adam": [dict(lr=1e-2, maximize=True), dict(lr=1e-2, weight_decay=0.1, amsgrad=True, maximize=True)],
    "AdamW": [dict(lr=1e-2, weight_decay=0.1, maximize=True)],
    "Adamax": [dict(lr=1e-2, weight_decay=0.05, maximize=True)],
    "Adadelta": [dict(weight_decay=0.1, maximize=True)],
    "Rprop": [dict(lr=1e-3, maximize=True)],
    "ASGD": [dict(lr=1e-3, lambd=0.5, t0=20.0, weight_decay=0.05, maximize=True)],
}

# Parameter groups: spans of the flat parameter vector (each a tensor in torch)
# and each group's scales of lr and weight_decay; the first group has two
# spans, so two tensors.
GROUPS = [
    dict(spans=[(0, 3), (7, 10)], lr_scale=1.0, wd_scale=1.0),
    dict(spans=[(3, 7)], lr_scale=0.25, wd_scale=0.0),
]
GROUPED = {
    "SGD": dict(lr=1e-4, momentum=0.9, weight_decay=0.05),
    "Adagrad": dict(lr=0.05, weight_decay=0.02),
    "RMSprop": dict(lr=1e-3, weight_decay=0.01, centered=True),
    "Adam": dict(lr=1e-2, weight_decay=0.1),
    "AdamW": dict(lr=1e-2, weight_decay=0.1, amsgrad=True),
    "Adamax": dict(lr=1e-2, weight_decay=0.05),
    "NAdam": dict(lr=1e-2, weight_decay=0.01),
    "RAdam": dict(lr=2e-3, weight_decay=0.05),
    "AdaBelief": dict(lr=2e-3, weight_decay=0.1),
    "Adadelta": dict(weight_decay=0.1),
    "Rprop": dict(lr=1e-3),
    "ASGD": dict(lr=1e-3, lambd=0.5, t0=20.0, weight_decay=0.05),
}


def run(name, settings, problem, stream):
    x0 = [0.5] * STREAM_DIM if problem == "stream" else ROSEN_X0
    groups = settings.get("param_groups")
    kw = {k: v for k, v in settings.items() if k != "param_groups"}
    if groups is None:
        spans = [(0, len(x0))]
        params = [torch.tensor(x0, requires_grad=True)]
        opt = torch_opt(name)(params, **kw)
    else:
        # One tensor per span, each in its group's torch parameter group.
        spans, torch_groups = [], []
        lr = kw.get("lr", torch_opt(name)([torch.zeros(1, requires_grad=True)], **kw).defaults["lr"])
        wd = kw.get("weight_decay", 0.0)
        for g in groups:
            ps = []
            for a, b in g["spans"]:
                spans.append((a, b))
                ps.append(torch.tensor(x0[a:b], requires_grad=True))
            torch_groups.append(dict(params=ps, lr=lr * g["lr_scale"], weight_decay=wd * g["wd_scale"]))
        opt = torch_opt(name)(torch_groups, **kw)
        params = [p for g in torch_groups for p in g["params"]]

    def flat(value=lambda p: p.detach()):
        x = list(x0)  # parameters in no group stay where they are
        for (a, b), p in zip(spans, params):
            x[a:b] = value(p).tolist()
        return x

    traj, avg = [], []
    for t in range(STEPS):
        if problem != "stream":
            for p in params:
                p.grad = None
            order = sorted(range(len(spans)), key=lambda k: spans[k][0])
            f = rosenbrock(torch.cat([params[k] for k in order]))
            (f if problem == "rosenbrock" else -f).backward()
        else:
            for (a, b), p in zip(spans, params):
                p.grad = stream[t][a:b].clone()
        opt.step()
        traj.append(flat())
        if name == "ASGD":
            avg.append(flat(lambda p: opt.state[p]["ax"]))
    return traj, avg


def logistic_data():
    """A seeded binary classification set: 40 points, 5 features and a bias."""
    g = torch.Generator().manual_seed(11)
    a = torch.randn(40, 5, generator=g)
    a = torch.cat([a, torch.ones(40, 1)], dim=1)
    w = torch.tensor([1.5, -2.0, 0.5, 0.0, 1.0, -0.3])
    y = ((a @ w + 0.5 * torch.randn(40, generator=g)) > 0).double()
    return a, y


def logistic(x, a, y):
    """Mean logistic loss plus 1e-3 |x|^2 / 2 of the labels y in {0, 1}."""
    z = a @ x
    return torch.nn.functional.binary_cross_entropy_with_logits(z, y) + 5e-4 * (x * x).sum()


def rosenbrock_explicit(x):
    """Rosenbrock's value and gradient in plain Python floats, in the order of
    operations of gonum's ExtendedRosenbrock (Func and Grad), which the Go test
    uses. L-BFGS amplifies rounding along Rosenbrock's valley (see the Go test),
    so the reference is torch's LBFGS on exactly the numbers the Go side gets,
    which leaves only the rounding inside the two optimizers to compare."""
    f = 0.0
    for i in range(len(x) - 1):
        a = 1 - x[i]
        b = x[i + 1] - x[i] * x[i]
        f += a * a + 100 * b * b
    g = [0.0] * len(x)
    for i in range(len(x) - 1):
        g[i] -= 2 * (1 - x[i])
        g[i] -= 400 * (x[i + 1] - x[i] * x[i]) * x[i]
    for i in range(1, len(x)):
        g[i] += 200 * (x[i] - x[i - 1] * x[i - 1])
    return f, g


LBFGS_STEPS = 12
LBFGS_CONFIGS = [
    dict(line_search_fn="strong_wolfe", max_iter=2),
    dict(line_search_fn="strong_wolfe", max_iter=3, history_size=4),
    dict(line_search_fn="strong_wolfe", lr=0.5, max_iter=5, max_eval=6, history_size=2),
    dict(line_search_fn="strong_wolfe"),
    # Trial steps that overshoot, so that the line search zooms and meets
    # its safeguards (too little progress, a trial near the bracket's ends,
    # the old high end becoming the low one).
    dict(line_search_fn="strong_wolfe", lr=10, max_iter=3),
    dict(line_search_fn="strong_wolfe", lr=30, max_iter=10),
    dict(max_iter=2, lr=0.1),
    dict(max_iter=4, lr=0.5, history_size=3),
]


def lbfgs_cases():
    a, y = logistic_data()
    out = []
    for settings, problem in [(s, p) for s in LBFGS_CONFIGS for p in ("rosenbrock", "logistic")]:
        x0 = ROSEN_X0 if problem == "rosenbrock" else [0.0] * 6
        p = torch.tensor(x0, requires_grad=True)
        opt = torch.optim.LBFGS([p], **settings)

        def closure():
            opt.zero_grad()
            if problem == "rosenbrock":
                f, g = rosenbrock_explicit(p.detach().tolist())
                p.grad = torch.tensor(g)
                return torch.tensor(f)
            loss = logistic(p, a, y)
            loss.backward()
            return loss

        xs, losses, evals, iters, states = [], [], [], [], []
        for _ in range(LBFGS_STEPS):
            losses.append(float(opt.step(closure)))
            st = opt.state[p]
            xs.append(p.detach().tolist())
            evals.append(st["func_evals"])
            iters.append(st["n_iter"])
            states.append(dict(
                d=st["d"].tolist(), t=float(st["t"]), prev_grad=st["prev_flat_grad"].tolist(),
                s=[v.tolist() for v in st["old_stps"]], y=[v.tolist() for v in st["old_dirs"]],
                ro=[float(v) for v in st["ro"]], h_diag=float(st["H_diag"])))
        out.append(dict(settings=settings, problem=problem, x=xs, loss=losses,
                        func_evals=evals, n_iter=iters, state=states))
    return out


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
    all_configs = [(name, settings) for name, configs in CONFIGS.items() for settings in configs]
    all_configs += [(name, settings) for name, configs in MAXIMIZE.items() for settings in configs]
    all_configs += [(name, dict(settings, param_groups=GROUPS)) for name, settings in GROUPED.items()]
    for name, settings in all_configs:
        # Ascending Rosenbrock diverges: maximize its negation instead.
        for problem in ("neg-rosenbrock" if settings.get("maximize") else "rosenbrock", "stream"):
            traj, avg = run(name, settings, problem, stream)
            assert all(abs(v) < 10 for row in traj for v in row), (name, settings, problem)
            case = dict(optimizer=name, settings=settings, problem=problem, x=traj)
            if avg:
                case["average"] = avg  # ASGD's state["ax"]
            cases.append(case)
    a, y = logistic_data()
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
        logistic_a=a.tolist(),
        logistic_y=y.tolist(),
        lbfgs=lbfgs_cases(),
    )
    path = os.path.join(HERE, "reference.json")
    with open(path, "w") as f:
        json.dump(ref, f, indent=None, separators=(",", ":"), allow_nan=False)  # floats as repr: exact round trip
        f.write("\n")
    print(f"wrote {path}: {len(cases)} trajectories")


if __name__ == "__main__":
    main()
