"""Course-weight recipes, one small module per model family.

``restoration`` (notebook 07: ``denoiser``, ``espcn``), ``gan`` (notebook 06: ``dcgan``, ``cgan``),
``diffusion`` (notebook 09: ``diffusion``, ``diffusion-cond``) and ``judge`` (the digit classifier
that scores the generative models).
Each module holds ``RECIPES``, ``build(name)``, a ``Trainer`` and its evaluation;
:mod:`course_utils.pretrain` runs, checkpoints and publishes them.
"""

import os
from pathlib import Path

import numpy as np


def save_variables(path, variables, **extra) -> None:
    """Write the values of ``variables`` (and ``extra`` NumPy arrays) to ``path.npz``.

    The file is written next to its final name and then moved over it, so a run stopped while
    saving leaves the previous checkpoint whole.
    """
    final = Path(str(path) + ".npz")
    arrays = {f"v{i:04d}": np.asarray(v.numpy()) for i, v in enumerate(variables)}
    for key in extra:
        if key.startswith("v"):
            raise ValueError(f"extra array names must not start with 'v' (kept for variables), got {key!r}")
    tmp = final.with_name(final.name + ".partial")
    with open(tmp, "wb") as f:
        np.savez(f, **arrays, **extra)
    os.replace(tmp, final)


def load_variables(path, variables) -> dict[str, np.ndarray]:
    """Assign ``path.npz`` (written by :func:`save_variables`) to ``variables``; return its extra arrays.

    Raises ``ValueError`` if the file holds a different number of variables or other shapes.
    """
    file = str(path) + ".npz"
    with np.load(file) as f:
        n_saved = sum(k.startswith("v") for k in f.files)
        if n_saved != len(variables):
            raise ValueError(f"{file} holds {n_saved} variables, this trainer has {len(variables)}")
        for i, v in enumerate(variables):
            key = f"v{i:04d}"
            value = f[key]
            if tuple(value.shape) != tuple(v.shape):
                raise ValueError(f"{file}: {key} has shape {value.shape}, the variable {v.name} {tuple(v.shape)}")
            v.assign(value)
        return {k: np.array(f[k]) for k in f.files if not k.startswith("v")}


def digits_pm1():
    """The real digits the generative recipes train on, in [-1, 1], with labels and the loader's result."""
    from .. import data

    loaded = data.load_mnist(verbose=False)
    (x, y), _ = loaded
    return (x.astype("float32") / 127.5 - 1.0), np.asarray(y, np.int32), loaded
