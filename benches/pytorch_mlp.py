"""PyTorch rival of `benches/mlp.rs` (workload W1), on one thread.

One training step of an MLP in float32: batch 128, layers 784-512-256-10, ReLU, biases on
every layer, softmax cross-entropy with integer labels, then a plain SGD update
(`torch.optim.SGD`, lr 1e-3, no momentum). Also times the forward pass alone.

    python benches/pytorch_mlp.py [--rounds 7] [--seconds 0.5]

Prints the median (and min) over the rounds, in ms per call.
"""

import argparse
import statistics
import time

import torch
import torch.nn.functional as F


def timeit(fn, rounds, seconds):
    for _ in range(10):  # warm-up
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=0.5)
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(0)
    sizes = [784, 512, 256, 10]
    batch = 128
    model = torch.nn.Sequential(
        torch.nn.Linear(sizes[0], sizes[1]),
        torch.nn.ReLU(),
        torch.nn.Linear(sizes[1], sizes[2]),
        torch.nn.ReLU(),
        torch.nn.Linear(sizes[2], sizes[3]),
    )
    x = torch.rand(batch, sizes[0])
    labels = torch.randint(0, sizes[3], (batch,))
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        opt.step()
        return loss

    def forward():
        with torch.no_grad():
            return F.cross_entropy(model(x), labels)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)")
    med, best = timeit(forward, args.rounds, args.seconds)
    print(f"W1 forward (no_grad): {med:.3f} ms median, {best:.3f} ms min")
    med, best = timeit(step, args.rounds, args.seconds)
    print(f"W1 training step (forward + backward + SGD): {med:.3f} ms median, {best:.3f} ms min")


if __name__ == "__main__":
    main()
