"""The supported range of package versions, and the one difference between its two ends.

The course is tested at both ends of a range: the newest set is ``requirements.txt``, the oldest
``requirements-oldest.txt`` (Colab's runtime of July 2025: TensorFlow 2.19, Keras 3.10, NumPy 2.0).
:func:`version_report` says whether the installed packages lie inside it (``00_setup`` prints it).

Keras added ``keras.ops.depth_to_space`` and ``keras.ops.space_to_depth`` after 3.10. The course
uses them (notebook 07's ESPCN and FFDNet-style denoiser, and the course weights built from
them), so on an older Keras :func:`add_missing_ops` supplies the two with the same meaning,
computed by ``tf.nn.depth_to_space`` and ``tf.nn.space_to_depth`` inside a small Keras layer, so
that they also work in functional models. :func:`course_utils.setup` calls it and says so in one
line; on a Keras that has the ops it does nothing. And ``keras.utils.set_random_seed`` resets
the generator behind unseeded ``keras.random`` calls only from Keras 3.11 on:
:func:`set_random_seed` does it on both ends, so running the setup cell again repeats a run.

Example::

    >>> from course_utils import compat
    >>> compat.version_report()["inside"]
    True
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path
from typing import Any

from . import paths

#: The packages whose versions decide whether the course runs, by their PyPI names.
CORE_PACKAGES = ("tensorflow", "keras", "numpy", "scipy", "scikit-image", "scikit-learn", "matplotlib")
NEWEST_FILE = "requirements.txt"
OLDEST_FILE = "requirements-oldest.txt"
MISSING_OPS = ("depth_to_space", "space_to_depth")

_PIN = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*==\s*([0-9][^\s#;]*)")


def parse_pins(text: str) -> dict[str, str]:
    """``{package: version}`` for the ``name==version`` lines of a requirements file (names lower-case)."""
    if not isinstance(text, str):
        raise ValueError(f"text must be the contents of a requirements file (str), got {type(text).__name__}")
    return {m.group(1).lower().replace("_", "-"): m.group(2)
            for line in text.splitlines() if (m := _PIN.match(line))}


def version_tuple(version: str) -> tuple[int, ...]:
    """``"2.19.0"`` -> ``(2, 19, 0)``; a suffix such as ``rc1`` or ``.post1`` after the numbers is ignored."""
    if not isinstance(version, str) or not re.match(r"^\d+", version):
        raise ValueError(f"version must be a version string such as '2.19.0', got {version!r}")
    return tuple(int(p) for p in re.match(r"^\d+(?:\.\d+)*", version).group(0).split("."))


def tested_range(root: str | Path | None = None) -> dict[str, tuple[str, str]]:
    """``{package: (oldest, newest)}`` for :data:`CORE_PACKAGES`, read from the two requirements files.

    ``root`` is the course folder (default :func:`course_utils.paths.repo_root`). Returns ``{}`` when
    either file is missing (a copy of ``course_utils`` without the repository).
    """
    root = Path(root) if root is not None else paths.repo_root()
    try:
        newest = parse_pins((root / NEWEST_FILE).read_text(encoding="utf-8"))
        oldest = parse_pins((root / OLDEST_FILE).read_text(encoding="utf-8"))
    except OSError:
        return {}
    return {p: (oldest[p], newest[p]) for p in CORE_PACKAGES if p in oldest and p in newest}


def installed_version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def version_report(installed: dict[str, str | None] | None = None, root: str | Path | None = None) -> dict[str, Any]:
    """Whether the installed core packages lie inside the tested range.

    ``installed`` (``{package: version}``) replaces the installed versions, for tests. Returns
    ``{"inside": bool, "rows": [(package, installed, oldest, newest, verdict)], "advice": str}``;
    a verdict is ``"ok"``, ``"older"``, ``"newer"`` or ``"missing"``. Newer than tested is allowed
    but untested; older is not supported.
    """
    rng = tested_range(root)
    if not rng:
        return {"inside": False, "rows": [], "advice": f"{OLDEST_FILE} or {NEWEST_FILE} not found: the tested range "
                                                       "is unknown (run from a clone of the course)"}
    rows = []
    for package, (low, high) in rng.items():
        have = installed.get(package) if installed is not None else installed_version(package)
        if have is None:
            verdict = "missing"
        elif version_tuple(have) < version_tuple(low):
            verdict = "older"
        elif version_tuple(have) > version_tuple(high):
            verdict = "newer"
        else:
            verdict = "ok"
        rows.append((package, have, low, high, verdict))
    verdicts = {r[-1] for r in rows}
    if verdicts == {"ok"}:
        advice = "every core package is inside the tested range"
    elif verdicts & {"older", "missing"}:
        advice = (f"outside the tested range: install the tested set with `pip install -r {NEWEST_FILE}` "
                  f"(or at least the versions of {OLDEST_FILE}); on Colab, use a current runtime")
    else:
        advice = ("newer than the newest tested versions: the course will probably run; if a cell fails, "
                  f"install the tested set with `pip install -r {NEWEST_FILE}`")
    return {"inside": verdicts == {"ok"}, "rows": rows, "advice": advice}


def add_missing_ops() -> list[str]:
    """Supply ``keras.ops.depth_to_space`` and ``space_to_depth`` where Keras lacks them; return what was added.

    Both take ``(x, block_size)`` with ``x`` in NHWC, like the Keras ops of Keras 3.11 and later:
    ``depth_to_space`` moves each group of ``block_size**2`` channels into a
    ``block_size x block_size`` block of pixels (``(N, H, W, b*b*C) -> (N, b*H, b*W, C)``,
    TensorFlow's "DCR" order), ``space_to_depth`` is its inverse. On a Keras that has them, nothing
    changes and ``[]`` is returned.
    """
    import keras

    missing = [name for name in MISSING_OPS if not hasattr(keras.ops, name)]
    if not missing:
        return []
    layers = _block_layers()
    for name in missing:
        layer_class = layers[name]

        def op(x, block_size, data_format=None, _layer=layer_class, _name=name):
            if data_format not in (None, "channels_last"):
                raise ValueError(f"data_format must be 'channels_last' (NHWC) for {_name}, got {data_format!r}")
            if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 2:
                raise ValueError(f"block_size must be an integer >= 2, got {block_size!r}")
            return _layer(block_size)(x)

        op.__name__ = op.__qualname__ = name
        op.__doc__ = f"``keras.ops.{name}`` for Keras before 3.11, supplied by course_utils.compat."
        setattr(keras.ops, name, op)
    return missing


def _block_layers() -> dict[str, type]:
    import keras
    import tensorflow as tf

    class BlockLayer(keras.layers.Layer):
        """Moves pixels between space and channels in ``block_size`` x ``block_size`` blocks (NHWC)."""

        to_space = True  # depth_to_space; False: space_to_depth

        def __init__(self, block_size: int = 2, **kwargs):
            kwargs.setdefault("autocast", False)  # moves numbers only: keep the input's dtype, like the Keras op
            super().__init__(**kwargs)
            self.block_size = int(block_size)

        def call(self, x):
            op = tf.nn.depth_to_space if self.to_space else tf.nn.space_to_depth
            return op(x, self.block_size)

        def compute_output_spec(self, x):
            (n, h, w, c), b = x.shape, self.block_size
            grow = (lambda d: None if d is None else d * b) if self.to_space else (lambda d: None if d is None else d // b)
            channels = c // (b * b) if self.to_space else c * b * b
            return keras.KerasTensor((n, grow(h), grow(w), channels), dtype=x.dtype)

        def get_config(self):
            return {**super().get_config(), "block_size": self.block_size}

    @keras.saving.register_keras_serializable(package="course_utils")
    class DepthToSpace(BlockLayer):
        """``tf.nn.depth_to_space`` as a layer: ``(N, H, W, b*b*C) -> (N, b*H, b*W, C)``."""

        to_space = True

    @keras.saving.register_keras_serializable(package="course_utils")
    class SpaceToDepth(BlockLayer):
        """``tf.nn.space_to_depth`` as a layer: ``(N, b*H, b*W, C) -> (N, H, W, b*b*C)``."""

        to_space = False

    return {"depth_to_space": DepthToSpace, "space_to_depth": SpaceToDepth}


def set_random_seed(seed: int) -> None:
    """``keras.utils.set_random_seed(seed)`` (Python, NumPy, TensorFlow, Keras), the same on every Keras.

    Keras 3.11 and later also reset the global generator that unseeded ``keras.random`` calls
    draw from; Keras 3.10 keeps it, so a second ``setup(seed)`` in one process would continue its
    stream instead of repeating it. This resets it on every version.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    import keras
    from keras.src.backend.common import global_state

    keras.utils.set_random_seed(seed)
    global_state.set_global_attribute("global_seed_generator", None)  # recreated from the seed on first use
