"""What the PyTorch rivals of the Rust benches share: their command line, one thread, a
fixed seed, and the timing loop. Imported by `pytorch_mlp.py` and `pytorch_conv.py`."""

import argparse
import statistics
import time

import torch


def setup():
    """Parses `--rounds` and `--seconds`, and pins PyTorch to one thread and seed 0."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=0.5)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    return args


def timeit(fn, rounds, seconds, warmup):
    """Median and min over `rounds` of the time per call of `fn`, in ms, each round
    calling it for about `seconds` after `warmup` calls."""
    for _ in range(warmup):
        fn()
    t0 = time.perf_counter()
    fn()
    once = time.perf_counter() - t0
    reps = max(1, int(seconds / max(once, 1e-9)))
    per_call = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        per_call.append((time.perf_counter() - t0) / reps * 1e3)
    return statistics.median(per_call), min(per_call)
