"""Python transcription of PyTorch's documented optimizer updates (torch.optim docs,
"Algorithm" boxes), used to compute the PY_* literals of tests/optim_*.rs.

Run: python3 reference.py. No dependencies. THETA0 and G match optim_common/mod.rs.
"""
import math

THETA0 = [0.5, -1.0, 2.0, 0.25, 1.5, -0.75, 0.0, 3.0]
G = [
    [0.3, -0.2, 1.5, 0.0, -2.0, 0.7, 0.1, -0.4],
    [0.1, 0.4, -0.5, 0.2, -1.0, 0.7, -0.3, 0.05],
    [-0.2, 0.1, 0.25, -0.6, 0.5, 0.7, 0.2, -0.1],
]


def sgd(lr, mom=0.0, damp=0.0, wd=0.0, nest=False):
    th = list(THETA0)
    buf = [None] * 8
    for t, g in enumerate(G, 1):
        for i in range(8):
            d = g[i]
            if wd:
                d += wd * th[i]
            if mom:
                buf[i] = d if t == 1 else mom * buf[i] + (1 - damp) * d
                d = d + mom * buf[i] if nest else buf[i]
            th[i] -= lr * d
    return th


def adam(lr, b1=0.9, b2=0.999, eps=1e-8, wd=0.0, ams=False, decoupled=False):
    th = list(THETA0)
    m, v, vm = [0.0] * 8, [0.0] * 8, [0.0] * 8
    for t, g in enumerate(G, 1):
        for i in range(8):
            d = g[i]
            if decoupled:
                th[i] *= 1 - lr * wd
            elif wd:
                d += wd * th[i]
            m[i] = b1 * m[i] + (1 - b1) * d
            v[i] = b2 * v[i] + (1 - b2) * d * d
            mh = m[i] / (1 - b1**t)
            if ams:
                vm[i] = max(vm[i], v[i])
                vh = vm[i] / (1 - b2**t)
            else:
                vh = v[i] / (1 - b2**t)
            th[i] -= lr * mh / (math.sqrt(vh) + eps)
    return th


def rmsprop(lr, alpha=0.99, eps=1e-8, wd=0.0, mom=0.0, centered=False):
    th = list(THETA0)
    v, b, ga = [0.0] * 8, [0.0] * 8, [0.0] * 8
    for g in G:
        for i in range(8):
            d = g[i]
            if wd:
                d += wd * th[i]
            v[i] = alpha * v[i] + (1 - alpha) * d * d
            vt = v[i]
            if centered:
                ga[i] = alpha * ga[i] + (1 - alpha) * d
                vt = vt - ga[i] ** 2
            if mom > 0:
                b[i] = mom * b[i] + d / (math.sqrt(vt) + eps)
                th[i] -= lr * b[i]
            else:
                th[i] -= lr * d / (math.sqrt(vt) + eps)
    return th


def adagrad(lr, lr_decay=0.0, wd=0.0, init=0.0, eps=1e-10):
    th = list(THETA0)
    s = [init] * 8
    for t, g in enumerate(G, 1):
        clr = lr / (1 + (t - 1) * lr_decay)
        for i in range(8):
            d = g[i]
            if wd:
                d += wd * th[i]
            s[i] += d * d
            th[i] -= clr * d / (math.sqrt(s[i]) + eps)
    return th


def show(name, th):
    print(name, "[" + ", ".join(repr(x) for x in th) + "]")


show("optim_sgd PY_PLAIN", sgd(0.1))
show("optim_sgd PY_MOMENTUM", sgd(0.1, mom=0.9, damp=0.1, wd=0.01))
show("optim_sgd PY_NESTEROV", sgd(0.1, mom=0.9, wd=0.01, nest=True))
show("optim_adam PY_ADAM", adam(0.1))
show("optim_adam PY_ADAM_L2_AMSGRAD", adam(0.1, b1=0.8, b2=0.9, wd=0.1, ams=True))
show("optim_adam PY_ADAMW", adam(0.1, wd=0.01, decoupled=True))
show("optim_adam PY_ADAMW_AMSGRAD", adam(0.1, b1=0.8, b2=0.9, wd=0.1, ams=True, decoupled=True))
show("optim_rmsprop PY_PLAIN", rmsprop(0.1))
show("optim_rmsprop PY_FULL", rmsprop(0.1, alpha=0.9, wd=0.1, mom=0.5, centered=True))
show("optim_adagrad PY_PLAIN", adagrad(0.1))
show("optim_adagrad PY_FULL", adagrad(0.1, lr_decay=0.1, wd=0.1, init=0.5, eps=1e-6))
