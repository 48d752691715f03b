"""PyTorch rival of `benches/mlp.rs` (workload W1), on one thread.

One training step of an MLP in float32: batch 128, layers 784-512-256-10, ReLU, biases on
every layer, softmax cross-entropy with integer labels, then a plain SGD update
(`torch.optim.SGD`, lr 1e-3, no momentum). Also times the forward pass alone.

    python benches/pytorch_mlp.py [--rounds 7] [--seconds 0.5]

Prints the median (and min) over the rounds, in ms per call.
"""

import torch
import torch.nn.functional as F

from pytorch_timing import setup, timeit


def main():
    args = setup()
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
    med, best = timeit(forward, args.rounds, args.seconds, warmup=10)
    print(f"W1 forward (no_grad): {med:.3f} ms median, {best:.3f} ms min")
    med, best = timeit(step, args.rounds, args.seconds, warmup=10)
    print(f"W1 training step (forward + backward + SGD): {med:.3f} ms median, {best:.3f} ms min")


if __name__ == "__main__":
    main()
