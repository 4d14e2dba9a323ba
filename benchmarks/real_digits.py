"""A real image set available offline: scikit-learn's bundled handwritten digits (UCI
"Optical Recognition of Handwritten Digits": 1,797 scans of digits written by 43 people,
8x8 pixels, 16 grey levels), written as an ImageFolder of PNGs for the benchmarks.

    .venv/bin/python benchmarks/real_digits.py OUT [--size 32]

OUT/<digit>/<index>.png, one folder per class ("0" .. "9"), each image scaled from 8x8 to
``--size`` pixels (bicubic) as 8-bit grey. Nothing is downloaded: the data ships inside
scikit-learn. ``bench_training.py --images OUT`` and ``bench_label_issues.py --images OUT``
take the folder.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image


def write_digits(out: Path, size: int = 32) -> int:
    """Write the digits under ``out``; the number of images written."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    for index, (pixels, target) in enumerate(zip(digits.images, digits.target, strict=True)):
        folder = out / str(int(target))
        folder.mkdir(parents=True, exist_ok=True)
        grey = np.clip(pixels * (255.0 / 16.0), 0, 255).astype(np.uint8)
        image = Image.fromarray(grey, mode="L").resize((size, size), Image.BICUBIC)
        image.save(folder / f"{index:04d}.png")
    return len(digits.target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", type=int, default=32)
    args = parser.parse_args()
    count = write_digits(args.out, args.size)
    print(f"{count} digit images ({args.size}x{args.size}) written to {args.out}")


if __name__ == "__main__":
    main()
