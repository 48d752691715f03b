#!/usr/bin/env python3
"""Writes data/digits.csv.gz, the data set of `cargo run --release --example digits`.

The UCI ML hand-written digits (the 1797 8x8 images of the UCI "Optical Recognition of
Handwritten Digits" test set), as scikit-learn ships them. Each line of the output is one
image: its 64 pixels in row-major order (integers 0..16), then its label (0..9).

Run once, from the repository root:

    python3 -m venv /tmp/digits-venv
    /tmp/digits-venv/bin/pip install scikit-learn
    /tmp/digits-venv/bin/python scripts/make_digits.py

The output is byte-for-byte reproducible (the gzip header carries no time stamp nor name).
See data/README.md for the attribution and the licence.
"""

import gzip
import io
import pathlib

from sklearn.datasets import load_digits


def main() -> None:
    digits = load_digits()
    images, labels = digits.data.astype(int), digits.target.astype(int)
    assert images.shape == (1797, 64) and labels.shape == (1797,)
    assert images.min() >= 0 and images.max() <= 16 and set(labels) == set(range(10))

    text = io.StringIO()
    for pixels, label in zip(images, labels):
        text.write(",".join(str(p) for p in pixels) + f",{label}\n")

    out = pathlib.Path(__file__).resolve().parent.parent / "data" / "digits.csv.gz"
    out.parent.mkdir(exist_ok=True)
    with open(out, "wb") as raw:
        # filename="" and mtime=0: no name or time stamp in the header, so reruns are identical.
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            gz.write(text.getvalue().encode("ascii"))
    print(f"wrote {out}: {len(labels)} images, {out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
