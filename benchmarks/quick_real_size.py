"""Quick mode on real-size data: does a notebook cost the same when the loader returns all of MNIST?

Online, ``course_utils.data.load_mnist()`` returns 60,000 training images; offline far fewer.
Quick mode promises at most 5 minutes per notebook on a 2-core CPU whichever came back, because
its training sizes are capped in images and steps. This benchmark checks the promise without the
internet: it builds a real-size stand-in, 60,000 training images made from an IDX file of real
digits (for example the MNIST test split), tiled with small shifts, and the 10,000 digits as the
test split. It then runs notebooks 02, 05 and 06 in quick mode with one extra first cell that makes
``load_mnist`` return the stand-in, and prints the runner's table.

Usage (from the course root)::

    .venv/bin/python benchmarks/quick_real_size.py \\
        --images ../shared/datasets/mnist/t10k-images-idx3-ubyte.gz \\
        --labels ../shared/datasets/mnist/t10k-labels-idx1-ubyte.gz [--json out.json] [02 05 06]

The notebooks run against a temporary course root (``COURSE_ROOT``), so the models they save
(notebook 02's classifier, which 05 and 06 then load) never replace yours in ``data/artifacts``.
It is a benchmark, not a test: it takes about 10 minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course_utils import data, runner  # noqa: E402

DEFAULT_IDX = ROOT / "data" / "offline" / "mnist"
SHIFTS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, -1), (1, -1), (-1, 1))

PRELUDE = '''\
# Benchmark prelude (benchmarks/quick_real_size.py): load_mnist returns a real-size stand-in.
import numpy as _np
import course_utils.data as _data

def _standin_mnist(*args, **kwargs):
    with _np.load({path!r}) as f:
        train, test = (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    desc = (f"benchmark: MNIST stand-in, {{len(train[0])}} train / {{len(test[0])}} test "
            "(real digits tiled with 1-pixel shifts)")
    print(desc)
    return _data.Loaded(train, test, "mnist", desc)  # the notebooks treat it as MNIST

_data.load_mnist = _standin_mnist
'''


def shift(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Shift (N, 28, 28, 1) images by (dy, dx) pixels, filling with zeros (the background)."""
    out = np.zeros_like(images)
    h, w = images.shape[1:3]
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[:, yd, xd] = images[:, ys, xs]
    return out


def build_standin(images: Path, labels: Path, n_train: int = 60_000, seed: int = 0) -> dict:
    """60,000 training images tiled from the IDX digits with small shifts; the digits as test set."""
    x = data.read_idx(images)
    y = data.read_idx(labels).astype(np.int64)
    if x.ndim != 3 or len(x) != len(y):
        raise ValueError(f"images: expected (N, H, W) images matching the labels; got {x.shape}, {y.shape}")
    x = x[..., None]
    copies = -(-n_train // len(x))
    if copies > len(SHIFTS):
        raise ValueError(f"n_train: at most {len(SHIFTS) * len(x)} from {len(x)} images")
    tiled_x = np.concatenate([shift(x, dy, dx) for dy, dx in SHIFTS[:copies]])
    tiled_y = np.concatenate([y] * copies)
    order = np.random.default_rng(seed).permutation(len(tiled_x))[:n_train]
    return {"x_train": tiled_x[order], "y_train": tiled_y[order], "x_test": x, "y_test": y}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", default=["02", "05", "06"])
    parser.add_argument("--images", type=Path, default=DEFAULT_IDX / "t10k-images-idx3-ubyte.gz")
    parser.add_argument("--labels", type=Path, default=DEFAULT_IDX / "t10k-labels-idx1-ubyte.gz")
    parser.add_argument("--n-train", type=int, default=60_000)
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    for name in ("images", "labels"):
        if not getattr(args, name).is_file():
            parser.error(f"--{name}: no file {getattr(args, name)} (an IDX file of digits, e.g. MNIST's)")

    notebooks = runner.resolve(args.notebooks)
    with tempfile.TemporaryDirectory(prefix="quick-real-size-") as tmp:
        standin = Path(tmp) / "mnist_standin.npz"
        arrays = build_standin(args.images, args.labels, args.n_train)
        np.savez(standin, **arrays)
        print(f"stand-in: {len(arrays['x_train'])} train / {len(arrays['x_test'])} test from {args.images.name}")
        root = Path(tmp) / "course"
        (root / "data").mkdir(parents=True)
        width = max(12, *(len(p.stem) for p in notebooks))
        print(runner.header(width), flush=True)
        results = []
        for path in notebooks:
            result = runner.run_notebook(
                path, "quick", prelude=PRELUDE.format(path=str(standin)),
                env={"COURSE_ROOT": str(root)},
            )
            results.append(result)
            print(runner.format_row(result, width), flush=True)
            if result.error:
                print(f"\n--- {result.name} failed ---\n{result.error}\n", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps({"notebooks": [r.to_json() for r in results]}, indent=2) + "\n")
    over = [r.name for r in results if r.seconds > 300]
    if over:
        print(f"over the 300 s quick-mode promise: {', '.join(over)}")
    return 0 if all(r.status == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
