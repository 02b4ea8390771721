"""SciPy's trust-region methods on the Moré–Garbow–Hillstrom instances of trustbench.

Measures the evaluations SciPy's trust-exact, trust-ncg, dogleg and
trust-krylov need on the 25 instances trustbench runs, under the same
conditions as its Go methods:

- the functions are gonum's (gonum.org/v1/gonum/optimize/functions, v0.17.0),
  written out again here with their exact Hessians (each checked against
  central differences of the gradient before the runs);
- the starting points are those gonum documents (`starts` below);
- a run stops at the first iterate with ‖∇f‖∞ < 1e-6, tested by a callback
  after every iteration (SciPy's own gtol test uses ‖∇f‖₂, which is met no
  earlier); gtol = 1e-6 is passed as well, and maxiter = 5000;
- every other option is SciPy's default (initial radius 1, maximum radius
  1000, η = 0.15; trust-krylov inexact);
- every call of the objective, the gradient and the Hessian is counted by
  wrappers around the functions (gradient calls at a point already seen are
  served from a one-point cache and not counted, so the callback's test costs
  nothing SciPy would not spend).

Run it with Debian's SciPy (apt-get install python3-scipy python3-numpy):

    /usr/bin/python3 examples/trustbench/scipy_trust.py

It prints one line per method and instance (method, instance, f, ∇f and
Hessian evaluations, whether it converged, final f and ‖∇f‖∞) and, with
-go, the lines of the Go table scipyRuns in scipy.go, which trustbench
prints and its tests check against. It is not run by go test. (SciPy's
ScalarFunction caches the last point evaluated, so a trial proposed twice
in a row is counted once, by SciPy and by these wrappers alike.)
"""

import math
import sys

import numpy as np
import scipy
from scipy.optimize import minimize

# ---------------------------------------------------------------- functions
# Each returns (f, grad, hess) closures for dimension n, following gonum's
# definitions term by term.


def beale():
    c = np.array([1.5, 2.25, 2.625])
    k = np.array([1.0, 2.0, 3.0])

    def parts(x):
        t = 1 - x[1] ** k
        r = c - x[0] * t
        return t, r

    def f(x):
        _, r = parts(x)
        return float(np.sum(r * r))

    def g(x):
        t, r = parts(x)
        d1 = x[0] * k * x[1] ** (k - 1)
        return np.array([-2 * np.sum(r * t), 2 * np.sum(r * d1)])

    def h(x):
        t, r = parts(x)
        d1 = x[0] * k * x[1] ** (k - 1)
        h00 = 2 * np.sum(t * t)
        h01 = 2 * np.sum(-t * d1 + r * k * x[1] ** (k - 1))
        h11 = 2 * np.sum(d1 * d1 + r * x[0] * k * (k - 1) * x[1] ** np.maximum(k - 2, 0))
        return np.array([[h00, h01], [h01, h11]])

    return f, g, h


def brown_badly_scaled():
    def f(x):
        return (x[0] - 1e6) ** 2 + (x[1] - 2e-6) ** 2 + (x[0] * x[1] - 2) ** 2

    def g(x):
        f3 = x[0] * x[1] - 2
        return np.array([2 * (x[0] - 1e6) + 2 * f3 * x[1], 2 * (x[1] - 2e-6) + 2 * f3 * x[0]])

    def h(x):
        return np.array([[2 + 2 * x[1] ** 2, 4 * x[0] * x[1] - 4], [4 * x[0] * x[1] - 4, 2 + 2 * x[0] ** 2]])

    return f, g, h


def powell_badly_scaled():
    def f(x):
        f1 = 1e4 * x[0] * x[1] - 1
        f2 = math.exp(-x[0]) + math.exp(-x[1]) - 1.0001
        return f1 * f1 + f2 * f2

    def g(x):
        f1 = 1e4 * x[0] * x[1] - 1
        f2 = math.exp(-x[0]) + math.exp(-x[1]) - 1.0001
        return np.array([2 * (1e4 * f1 * x[1] - f2 * math.exp(-x[0])),
                         2 * (1e4 * f1 * x[0] - f2 * math.exp(-x[1]))])

    def h(x):
        t1 = 1e4 * x[0] * x[1] - 1
        s1, s2 = math.exp(-x[0]), math.exp(-x[1])
        t2 = s1 + s2 - 1.0001
        h01 = 2 * (1e4 * (1 + 2 * t1) + s1 * s2)
        return np.array([[2 * (1e8 * x[1] ** 2 + s1 * (s1 + t2)), h01],
                         [h01, 2 * (1e8 * x[0] ** 2 + s2 * (s2 + t2))]])

    return f, g, h


def rosenbrock():
    def f(x):
        return float(np.sum((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2))

    def g(x):
        gr = np.zeros_like(x)
        b = x[1:] - x[:-1] ** 2
        gr[:-1] += -2 * (1 - x[:-1]) - 400 * b * x[:-1]
        gr[1:] += 200 * b
        return gr

    def h(x):
        n = len(x)
        d = np.zeros(n)
        d[:-1] += 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
        d[1:] += 200
        m = np.diag(d)
        off = -400 * x[:-1]
        m += np.diag(off, 1) + np.diag(off, -1)
        return m

    return f, g, h


def helical_valley():
    def theta(x):
        t = 0.5 * math.atan(x[1] / x[0]) / math.pi
        return t + 0.5 if x[0] < 0 else t

    def f(x):
        f1 = 10 * (x[2] - 10 * theta(x))
        f2 = 10 * (math.hypot(x[0], x[1]) - 1)
        return f1 * f1 + f2 * f2 + x[2] * x[2]

    def g(x):
        r = math.hypot(x[0], x[1])
        q = 1 / (math.pi * r * r)
        s = x[2] - 10 * theta(x)
        return np.array([200 * (5 * s * q * x[1] + (r - 1) * x[0] / r),
                         200 * (-5 * s * q * x[0] + (r - 1) * x[1] / r),
                         2 * (100 * s + x[2])])

    def h(x):
        r = math.hypot(x[0], x[1])
        r2, r4 = r * r, r ** 4
        s = x[2] - 10 * theta(x)
        a = np.array([5 * x[1] / (math.pi * r2), -5 * x[0] / (math.pi * r2), 1.0])
        hs = np.zeros((3, 3))
        hs[0, 0] = -10 * x[0] * x[1] / (math.pi * r4)
        hs[0, 1] = hs[1, 0] = 5 * (x[0] ** 2 - x[1] ** 2) / (math.pi * r4)
        hs[1, 1] = 10 * x[0] * x[1] / (math.pi * r4)
        gr = np.array([x[0] / r, x[1] / r, 0.0])
        hr = np.zeros((3, 3))
        hr[0, 0] = x[1] ** 2 / r ** 3
        hr[0, 1] = hr[1, 0] = -x[0] * x[1] / r ** 3
        hr[1, 1] = x[0] ** 2 / r ** 3
        m = 200 * (np.outer(a, a) + s * hs) + 200 * (np.outer(gr, gr) + (r - 1) * hr)
        m[2, 2] += 2
        return m

    return f, g, h


def gaussian():
    y = np.array([0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521, 0.3989,
                  0.3521, 0.2420, 0.1295, 0.0540, 0.0175, 0.0044, 0.0009])
    c = 0.5 * (8 - np.arange(1, 16))

    def parts(x):
        b = c - x[2]
        d = b * b
        e = np.exp(-0.5 * x[1] * d)
        return b, d, e, x[0] * e - y

    def f(x):
        return float(np.sum(parts(x)[3] ** 2))

    def g(x):
        b, d, e, r = parts(x)
        return np.array([np.sum(2 * r * e), -np.sum(r * e * d * x[0]), np.sum(2 * r * e * x[0] * x[1] * b)])

    def h(x):
        b, d, e, r = parts(x)
        m = np.zeros((3, 3))
        for i in range(15):
            j = np.array([e[i], -x[0] * e[i] * d[i] / 2, x[0] * x[1] * e[i] * b[i]])
            s = np.zeros((3, 3))
            s[0, 1] = s[1, 0] = -e[i] * d[i] / 2
            s[0, 2] = s[2, 0] = x[1] * e[i] * b[i]
            s[1, 1] = x[0] * e[i] * d[i] ** 2 / 4
            s[1, 2] = s[2, 1] = x[0] * e[i] * b[i] * (1 - x[1] * d[i] / 2)
            s[2, 2] = x[0] * x[1] * e[i] * (x[1] * b[i] ** 2 - 1)
            m += 2 * (np.outer(j, j) + r[i] * s)
        return m

    return f, g, h


def box3d():
    c = -np.arange(1, 11) / 10
    y = np.exp(c) - np.exp(10 * c)

    def f(x):
        r = np.exp(c * x[0]) - np.exp(c * x[1]) - x[2] * y
        return float(np.sum(r * r))

    def g(x):
        e0, e1 = np.exp(c * x[0]), np.exp(c * x[1])
        r = e0 - e1 - x[2] * y
        return np.array([np.sum(2 * r * c * e0), np.sum(-2 * r * c * e1), np.sum(-2 * r * y)])

    def h(x):
        e0, e1 = np.exp(c * x[0]), np.exp(c * x[1])
        r = e0 - e1 - x[2] * y
        m = np.zeros((3, 3))
        for i in range(10):
            j = np.array([c[i] * e0[i], -c[i] * e1[i], -y[i]])
            m += 2 * np.outer(j, j)
            m[0, 0] += 2 * r[i] * c[i] ** 2 * e0[i]
            m[1, 1] -= 2 * r[i] * c[i] ** 2 * e1[i]
        return m

    return f, g, h


def gulf():
    a = np.arange(1, 100) / 100
    u = (-50 * np.log(a)) ** (2 / 3) + 25

    def parts(x):
        r = u - x[1]
        lg = np.log(np.abs(r))
        t = np.abs(r) ** x[2] / x[0]
        e = np.exp(-t)
        return r, lg, t, e, e - a

    def f(x):
        return float(np.sum(parts(x)[4] ** 2))

    def g(x):
        r, lg, t, e, res = parts(x)
        s1 = t * e * res
        return np.array([2 / x[0] * np.sum(s1), 2 * x[2] * np.sum(s1 / r), -2 * np.sum(s1 * lg)])

    def h(x):
        r, lg, t, e, res = parts(x)
        m = np.zeros((3, 3))
        for i in range(99):
            dt = np.array([-t[i] / x[0], -x[2] * t[i] / r[i], t[i] * lg[i]])
            ht = np.zeros((3, 3))
            ht[0, 0] = 2 * t[i] / x[0] ** 2
            ht[0, 1] = ht[1, 0] = x[2] * t[i] / (r[i] * x[0])
            ht[0, 2] = ht[2, 0] = -t[i] * lg[i] / x[0]
            ht[1, 1] = x[2] * (x[2] - 1) * t[i] / r[i] ** 2
            ht[1, 2] = ht[2, 1] = -t[i] * (1 + x[2] * lg[i]) / r[i]
            ht[2, 2] = t[i] * lg[i] ** 2
            j = -e[i] * dt
            s = e[i] * (np.outer(dt, dt) - ht)
            m += 2 * (np.outer(j, j) + res[i] * s)
        return m

    return f, g, h


def wood():
    def f(x):
        return (100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2 + 90 * (x[3] - x[2] ** 2) ** 2
                + (1 - x[2]) ** 2 + 10 * (x[1] + x[3] - 2) ** 2 + 0.1 * (x[1] - x[3]) ** 2)

    def g(x):
        f1, f2 = x[1] - x[0] ** 2, 1 - x[0]
        f3, f4 = x[3] - x[2] ** 2, 1 - x[2]
        f5, f6 = x[1] + x[3] - 2, x[1] - x[3]
        return np.array([-2 * (200 * f1 * x[0] + f2), 2 * (100 * f1 + 10 * f5 + 0.1 * f6),
                         -2 * (180 * f3 * x[2] + f4), 2 * (90 * f3 + 10 * f5 - 0.1 * f6)])

    def h(x):
        return np.array([[400 * (3 * x[0] ** 2 - x[1]) + 2, -400 * x[0], 0, 0],
                         [-400 * x[0], 220.2, 0, 19.8],
                         [0, 0, 360 * (3 * x[2] ** 2 - x[3]) + 2, -360 * x[2]],
                         [0, 19.8, -360 * x[2], 200.2]])

    return f, g, h


def brown_and_dennis():
    c = np.arange(1, 21) / 5
    sc, cc, ec = np.sin(c), np.cos(c), np.exp(c)

    def parts(x):
        f1 = x[0] + c * x[1] - ec
        f2 = x[2] + x[3] * sc - cc
        return f1, f2, f1 * f1 + f2 * f2

    def f(x):
        return float(np.sum(parts(x)[2] ** 2))

    def g(x):
        f1, f2, t = parts(x)
        return np.array([np.sum(4 * t * f1), np.sum(4 * t * f1 * c), np.sum(4 * t * f2), np.sum(4 * t * f2 * sc)])

    def h(x):
        f1, f2, t = parts(x)
        m = np.zeros((4, 4))
        for i in range(20):
            j1 = np.array([1, c[i], 0, 0])
            j2 = np.array([0, 0, 1, sc[i]])
            v = f1[i] * j1 + f2[i] * j2
            m += 8 * np.outer(v, v) + 4 * t[i] * (np.outer(j1, j1) + np.outer(j2, j2))
        return m

    return f, g, h


def powell_singular():
    def f(x):
        a, b, c, d = x[0::4], x[1::4], x[2::4], x[3::4]
        return float(np.sum((a + 10 * b) ** 2 + 5 * (c - d) ** 2 + (b - 2 * c) ** 4 + 10 * (a - d) ** 4))

    def g(x):
        a, b, c, d = x[0::4], x[1::4], x[2::4], x[3::4]
        f1, f2, t1, t2 = a + 10 * b, c - d, b - 2 * c, a - d
        gr = np.empty_like(x)
        gr[0::4] = 2 * f1 + 40 * t2 ** 3
        gr[1::4] = 20 * f1 + 4 * t1 ** 3
        gr[2::4] = 10 * f2 - 8 * t1 ** 3
        gr[3::4] = -10 * f2 - 40 * t2 ** 3
        return gr

    def h(x):
        n = len(x)
        m = np.zeros((n, n))
        for i in range(0, n, 4):
            a, b, c, d = x[i:i + 4]
            blk = np.zeros((4, 4))
            blk[np.ix_([0, 1], [0, 1])] += 2 * np.array([[1, 10], [10, 100]])
            blk[np.ix_([2, 3], [2, 3])] += 10 * np.array([[1, -1], [-1, 1]])
            blk[np.ix_([1, 2], [1, 2])] += 12 * (b - 2 * c) ** 2 * np.array([[1, -2], [-2, 4]])
            blk[np.ix_([0, 3], [0, 3])] += 120 * (a - d) ** 2 * np.array([[1, -1], [-1, 1]])
            m[i:i + 4, i:i + 4] = blk
        return m

    return f, g, h


def biggs_exp6():
    z = np.arange(1, 14) / 10
    y = np.exp(-z) - 5 * np.exp(-10 * z) + 3 * np.exp(-4 * z)

    def parts(x):
        e0, e1, e4 = np.exp(-x[0] * z), np.exp(-x[1] * z), np.exp(-x[4] * z)
        return e0, e1, e4, x[2] * e0 - x[3] * e1 + x[5] * e4 - y

    def f(x):
        return float(np.sum(parts(x)[3] ** 2))

    def jac(x, e0, e1, e4):
        return np.stack([-z * x[2] * e0, z * x[3] * e1, e0, -e1, -z * x[5] * e4, e4], axis=1)

    def g(x):
        e0, e1, e4, r = parts(x)
        return 2 * jac(x, e0, e1, e4).T @ r

    def h(x):
        e0, e1, e4, r = parts(x)
        j = jac(x, e0, e1, e4)
        m = 2 * j.T @ j
        s = np.zeros((6, 6))
        s[0, 0] = np.sum(r * z * z * x[2] * e0)
        s[0, 2] = s[2, 0] = np.sum(r * -z * e0)
        s[1, 1] = np.sum(r * -z * z * x[3] * e1)
        s[1, 3] = s[3, 1] = np.sum(r * z * e1)
        s[4, 4] = np.sum(r * z * z * x[5] * e4)
        s[4, 5] = s[5, 4] = np.sum(r * -z * e4)
        return m + 2 * s

    return f, g, h


def watson():
    d1 = np.arange(1, 30) / 29

    def parts(x):
        n = len(x)
        j = np.arange(n)
        pw = d1[:, None] ** j[None, :]  # d1^j
        s1 = (pw[:, :-1] * np.arange(1, n)[None, :]) @ x[1:]
        s2 = pw @ x
        return pw, s1 - s2 * s2 - 1

    def f(x):
        _, t = parts(x)
        return float(np.sum(t * t) + x[0] ** 2 + (x[1] - x[0] ** 2 - 1) ** 2)

    def dt(x, pw):
        n = len(x)
        s2 = pw @ x
        d = np.zeros((29, n))
        d[:, 1:] = np.arange(1, n)[None, :] * pw[:, :-1]
        return d - 2 * s2[:, None] * pw

    def g(x):
        pw, t = parts(x)
        gr = 2 * dt(x, pw).T @ t
        t1 = x[1] - x[0] ** 2 - 1
        gr[0] += 2 * x[0] - 4 * x[0] * t1
        gr[1] += 2 * t1
        return gr

    def h(x):
        pw, t = parts(x)
        j = dt(x, pw)
        m = 2 * j.T @ j - 4 * (pw.T * t[None, :]) @ pw
        t1 = x[1] - x[0] ** 2 - 1
        m[0, 0] += 2 - 4 * t1 + 8 * x[0] ** 2
        m[0, 1] -= 4 * x[0]
        m[1, 0] -= 4 * x[0]
        m[1, 1] += 2
        return m

    return f, g, h


def trigonometric():
    def parts(x):
        n = len(x)
        i1 = np.arange(1, n + 1)
        r = n + i1 - i1 * np.cos(x) - np.sin(x) - np.sum(np.cos(x))
        return i1, r

    def f(x):
        return float(np.sum(parts(x)[1] ** 2))

    def g(x):
        i1, r = parts(x)
        return 2 * r * (i1 * np.sin(x) - np.cos(x)) + 2 * np.sum(r) * np.sin(x)

    def h(x):
        n = len(x)
        i1, r = parts(x)
        s = np.sin(x)
        w = i1 * np.sin(x) - np.cos(x)
        m = n * np.outer(s, s) + np.outer(s, w) + np.outer(w, s) + np.diag(w * w)
        m += np.diag(np.sum(r) * np.cos(x) + r * (i1 * np.cos(x) + np.sin(x)))
        return 2 * m

    return f, g, h


def variably_dimensioned():
    def f(x):
        w = np.arange(1, len(x) + 1)
        s = np.sum(w * (x - 1))
        return float(np.sum((x - 1) ** 2) + s ** 2 + s ** 4)

    def g(x):
        w = np.arange(1, len(x) + 1)
        s = np.sum(w * (x - 1))
        return 2 * (x - 1 + s * w * (1 + 2 * s * s))

    def h(x):
        w = np.arange(1, len(x) + 1)
        s = np.sum(w * (x - 1))
        return 2 * np.eye(len(x)) + (2 + 12 * s * s) * np.outer(w, w)

    return f, g, h


def penalty1():
    def f(x):
        return float(1e-5 * np.sum((x - 1) ** 2) + (np.sum(x * x) - 0.25) ** 2)

    def g(x):
        s = np.sum(x * x) - 0.25
        return 2 * (2 * s * x + 1e-5 * (x - 1))

    def h(x):
        s = np.sum(x * x) - 0.25
        return (2e-5 + 4 * s) * np.eye(len(x)) + 8 * np.outer(x, x)

    return f, g, h


def penalty2():
    def parts(x):
        n = len(x)
        w = n - np.arange(n)
        e = np.exp(x / 10)
        i = np.arange(1, n)
        y = np.exp((i + 1) / 10) + np.exp(i / 10)
        a = e[1:] + e[:-1] - y
        b = e[1:] - math.exp(-0.1)
        s = np.sum(w * x * x) - 1
        return w, e, a, b, s

    def f(x):
        w, e, a, b, s = parts(x)
        return float(1e-5 * (np.sum(a * a) + np.sum(b * b)) + (x[0] - 0.2) ** 2 + s * s)

    def g(x):
        w, e, a, b, s = parts(x)
        gr = 4 * s * w * x
        gr[1:] += 1e-5 * a * e[1:] / 5
        gr[:-1] += 1e-5 * a * e[:-1] / 5
        gr[1:] += 1e-5 * b * e[1:] / 5
        gr[0] += 2 * (x[0] - 0.2)
        return gr

    def h(x):
        n = len(x)
        w, e, a, b, s = parts(x)
        v = w * x
        m = 8 * np.outer(v, v) + 4 * s * np.diag(w)
        for k in range(1, n):
            # 1e-5·a_k², a_k depending on x_k and x_{k−1}
            m[k, k] += 2e-5 * (e[k] ** 2 / 100 + a[k - 1] * e[k] / 100)
            m[k - 1, k - 1] += 2e-5 * (e[k - 1] ** 2 / 100 + a[k - 1] * e[k - 1] / 100)
            m[k, k - 1] += 2e-5 * e[k] * e[k - 1] / 100
            m[k - 1, k] += 2e-5 * e[k] * e[k - 1] / 100
            m[k, k] += 2e-5 * (e[k] ** 2 / 100 + b[k - 1] * e[k] / 100)
        m[0, 0] += 2
        return m

    return f, g, h


# ---------------------------------------------------------------- instances

def alternating(n, a, b):
    return np.array([a if i % 2 == 0 else b for i in range(n)], dtype=float)


instances = [
    ("Beale", beale, np.array([1.0, 1.0])),
    ("BrownBadlyScaled", brown_badly_scaled, np.array([1.0, 1.0])),
    ("PowellBadlyScaled", powell_badly_scaled, np.array([0.0, 1.0])),
    ("ExtendedRosenbrock-2", rosenbrock, alternating(2, -1.2, 1)),
    ("ExtendedRosenbrock-10", rosenbrock, alternating(10, -1.2, 1)),
    ("ExtendedRosenbrock-100", rosenbrock, alternating(100, -1.2, 1)),
    ("HelicalValley", helical_valley, np.array([-1.0, 0.0, 0.0])),
    ("Gaussian", gaussian, np.array([0.4, 1.0, 0.0])),
    ("Box3D", box3d, np.array([0.0, 10.0, 20.0])),
    ("Gulf", gulf, np.array([5.0, 2.5, 0.15])),
    ("Wood", wood, np.array([-3.0, -1.0, -3.0, -1.0])),
    ("BrownAndDennis", brown_and_dennis, np.array([25.0, 5.0, -5.0, -1.0])),
    ("ExtendedPowellSingular-4", powell_singular, np.tile([3.0, -1.0, 0.0, 3.0], 1)),
    ("ExtendedPowellSingular-100", powell_singular, np.tile([3.0, -1.0, 0.0, 3.0], 25)),
    ("BiggsEXP6", biggs_exp6, np.array([1.0, 2.0, 1.0, 1.0, 1.0, 1.0])),
    ("Watson-6", watson, np.zeros(6)),
    ("Watson-9", watson, np.zeros(9)),
    ("Trigonometric-10", trigonometric, np.full(10, 1 / 10)),
    ("Trigonometric-100", trigonometric, np.full(100, 1 / 100)),
    ("VariablyDimensioned-10", variably_dimensioned, 1 - np.arange(1, 11) / 10),
    ("VariablyDimensioned-100", variably_dimensioned, 1 - np.arange(1, 101) / 100),
    ("PenaltyI-10", penalty1, np.arange(1, 11, dtype=float)),
    ("PenaltyI-100", penalty1, np.arange(1, 101, dtype=float)),
    ("PenaltyII-10", penalty2, np.full(10, 0.5)),
    ("PenaltyII-100", penalty2, np.full(100, 0.5)),
]

methods = ["trust-exact", "trust-ncg", "dogleg", "trust-krylov"]
GTOL = 1e-6
MAXITER = 5000


def check_hessians():
    """Central differences of the gradient at the start and a nearby point."""
    rng = np.random.default_rng(1)
    for name, make, x0 in instances:
        f, g, h = make()
        for x in (x0, x0 + 0.1 * rng.standard_normal(len(x0))):
            n = len(x)
            fd = np.zeros((n, n))
            for j in range(n):
                s = 1e-6 * max(1, abs(x[j]))
                e = np.zeros(n)
                e[j] = s
                fd[:, j] = (g(x + e) - g(x - e)) / (2 * s)
            got = h(x)
            err = np.max(np.abs(got - fd)) / max(1, np.max(np.abs(fd)))
            if err > 1e-5 or not np.allclose(got, got.T):
                raise SystemExit(f"{name}: Hessian differs from differences of the gradient by {err:.2e}")


class Converged(Exception):
    pass


def run(method, make, x0):
    f, g, h = make()
    counts = {"f": 0, "g": 0, "h": 0}
    cache = {}

    def fun(x):
        counts["f"] += 1
        return f(x)

    def jac(x):
        key = x.tobytes()
        if key not in cache:
            counts["g"] += 1
            cache.clear()
            cache[key] = g(x)
        return cache[key].copy()

    def hess(x):
        counts["h"] += 1
        return h(x)

    last = {"x": x0}

    def callback(x):
        last["x"] = x
        if np.max(np.abs(jac(x))) < GTOL:
            raise Converged

    converged = False
    try:
        res = minimize(fun, x0.copy(), method=method, jac=jac, hess=hess, callback=callback,
                       options={"gtol": GTOL, "maxiter": MAXITER})
        x = res.x
        converged = res.success and np.max(np.abs(jac(x))) < GTOL
    except Converged:
        x = last["x"]
        converged = True
    except (np.linalg.LinAlgError, ValueError):
        x = last["x"]
    return counts, converged, f(x), float(np.max(np.abs(g(x))))


def main():
    check_hessians()
    go = "-go" in sys.argv[1:]
    print(f"# SciPy {scipy.__version__}, NumPy {np.__version__}; stop ‖∇f‖∞ < {GTOL:g}, maxiter {MAXITER}")
    rows = []
    for method in methods:
        for name, make, x0 in instances:
            counts, conv, fx, gx = run(method, make, x0)
            rows.append((method, name, counts, conv))
            print(f"{method:13s} {name:27s} f {counts['f']:5d}  ∇f {counts['g']:5d}  ∇²f {counts['h']:5d}  "
                  f"converged {str(conv):5s}  f {fx:.6e}  ‖∇f‖∞ {gx:.1e}")
    if go:
        print()
        for method, name, counts, conv in rows:
            print(f'\t{{"{method}", "{name}", {counts["f"]}, {counts["g"]}, {counts["h"]}, {str(conv).lower()}}},')


if __name__ == "__main__":
    main()
