"""PyTorch rival of `benches/conv.rs`, on one thread.

`conv2d` in float32, batch 64, 16 -> 32 channels, 28 x 28, 3 x 3 kernel, stride 1,
padding 1, with bias: the forward pass alone, and forward + backward with a given output
gradient, computing the gradients of the input, the weight and the bias (as
`nn::conv2d_vjp` does).

    python benches/pytorch_conv.py [--rounds 7] [--seconds 0.5]

Prints the median (and min) over the rounds, in ms per call.
"""

import torch
import torch.nn.functional as F

from pytorch_timing import setup, timeit


def main():
    args = setup()
    n, c_in, c_out, hw, k = 64, 16, 32, 28, 3
    bound = 1.0 / (c_in * k * k) ** 0.5
    x = (torch.rand(n, c_in, hw, hw) * 2 - 1).requires_grad_(True)
    w = ((torch.rand(c_out, c_in, k, k) * 2 - 1) * bound).requires_grad_(True)
    b = ((torch.rand(c_out) * 2 - 1) * bound).requires_grad_(True)
    d_y = torch.rand(n, c_out, hw, hw) * 2 - 1

    def forward():
        with torch.no_grad():
            return F.conv2d(x, w, b, stride=1, padding=1)

    def forward_backward():
        x.grad = w.grad = b.grad = None
        y = F.conv2d(x, w, b, stride=1, padding=1)
        y.backward(d_y)
        return y

    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"mkldnn {torch.backends.mkldnn.is_available()}")
    med, best = timeit(forward, args.rounds, args.seconds, warmup=5)
    print(f"conv2d forward: {med:.3f} ms median, {best:.3f} ms min")
    med, best = timeit(forward_backward, args.rounds, args.seconds, warmup=5)
    print(f"conv2d forward + backward (d_x, d_w, d_b): {med:.3f} ms median, {best:.3f} ms min")


if __name__ == "__main__":
    main()
