"""The course's one runtime switch: the run mode, budgets, seeding and the device summary.

Every notebook starts with ``info = course_utils.setup()`` and reads its sizes from one
parameters cell built with :func:`budget`, for example::

    EPOCHS = course_utils.budget(test=1, quick=5, full=30)

The mode comes from the ``COURSE_MODE`` environment variable:

* ``test``  - smallest data and 1-2 epochs, for nbval and CI (a minute or so per notebook);
* ``quick`` - a laptop CPU, a few minutes per notebook, results that mean something;
* ``full``  - a GPU, full datasets and epochs.

Unset means ``full`` when a GPU is visible and ``quick`` otherwise. ``COURSE_PRECISION``
(``auto`` | ``float32`` | ``mixed_float16``) sets the Keras dtype policy; ``auto`` means
``mixed_float16`` on tensor-core GPUs and ``float32`` elsewhere. Importing this module
does not import TensorFlow; :func:`setup` does.
"""

from __future__ import annotations

import contextlib
import os
import platform
import random
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

MODES = ("test", "quick", "full")
MODE_ENV = "COURSE_MODE"

PRECISIONS = ("auto", "float32", "mixed_float16")
PRECISION_ENV = "COURSE_PRECISION"

#: GPUs from this compute capability on have tensor cores, where float16 maths pays off.
MIXED_PRECISION_MIN_CAPABILITY = (7, 0)


@dataclass(frozen=True)
class GPU:
    """One visible GPU: its TensorFlow name, marketing name and CUDA compute capability."""

    name: str
    device_name: str = "GPU"
    compute_capability: tuple[int, int] | None = None


@dataclass(frozen=True)
class RuntimeInfo:
    """What :func:`setup` configured; ``str(info)`` is the one-line summary it printed."""

    mode: str
    backend: str
    keras_version: str
    device: str
    precision: str
    data_policy: str
    seed: int
    gpus: tuple[GPU, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        return (
            f"mode={self.mode} | Keras {self.keras_version} ({self.backend}) | "
            f"device={self.device} | precision={self.precision} | data={self.data_policy}"
        )


def _env_mode() -> str | None:
    """The mode named by ``COURSE_MODE``, ``None`` when unset; ``ValueError`` when invalid."""
    raw = os.environ.get(MODE_ENV, "").strip().lower()
    if not raw:
        return None
    if raw not in MODES:
        raise ValueError(
            f"{MODE_ENV}={os.environ[MODE_ENV]!r} is not a run mode; use one of: test, quick, full"
        )
    return raw


def _check_precision(value: str, source: str) -> str:
    """``value`` lower-cased and stripped when it is a valid precision; else ``ValueError``."""
    cleaned = str(value).strip().lower() if isinstance(value, str) else value
    if cleaned not in PRECISIONS:
        raise ValueError(
            f"{source}={value!r} is not a precision; use one of: {', '.join(PRECISIONS)}"
        )
    return cleaned


def requested_precision(precision: str | None = None) -> str:
    """The precision asked for: ``precision`` if given, else ``COURSE_PRECISION``, else ``auto``.

    An unknown value raises a one-line ``ValueError`` that names the valid values.
    """
    if precision is not None:
        return _check_precision(precision, "precision")
    raw = os.environ.get(PRECISION_ENV, "").strip()
    if not raw:
        return "auto"
    return _check_precision(raw, PRECISION_ENV)


def resolve_precision(requested: str, gpus: Sequence[GPU]) -> str:
    """The Keras dtype policy to use: ``auto`` means ``mixed_float16`` on tensor-core GPUs only."""
    requested = _check_precision(requested, "precision")
    if requested == "auto":
        return "mixed_float16" if supports_mixed_precision(gpus) else "float32"
    return requested


def detect_gpus() -> list[GPU]:
    """The GPUs TensorFlow can see, with their compute capability when TensorFlow reports it."""
    import tensorflow as tf

    gpus = []
    for device in tf.config.list_physical_devices("GPU"):
        try:
            details = tf.config.experimental.get_device_details(device)
        except Exception:  # pragma: no cover - depends on the driver
            details = {}
        gpus.append(
            GPU(
                name=device.name,
                device_name=details.get("device_name", "GPU"),
                compute_capability=details.get("compute_capability"),
            )
        )
    return gpus


def mode(gpus: Sequence[GPU] | None = None) -> str:
    """The current run mode: ``"test"``, ``"quick"`` or ``"full"``.

    ``COURSE_MODE`` wins when set; an unknown value raises ``ValueError`` naming the valid
    ones. Unset means ``"full"`` with a GPU and ``"quick"`` without. ``gpus`` replaces GPU
    detection (tests pass a fake list); by default TensorFlow is asked.
    """
    chosen = _env_mode()
    if chosen is not None:
        return chosen
    if gpus is None:
        gpus = detect_gpus()
    return "full" if len(gpus) > 0 else "quick"


def is_test_mode() -> bool:
    """True when ``COURSE_MODE=test``. Never imports TensorFlow (the data loaders use it)."""
    return _env_mode() == "test"


def budget(*, test: Any, quick: Any, full: Any, gpus: Sequence[GPU] | None = None) -> Any:
    """Return the value given for the current mode, e.g. ``budget(test=1, quick=5, full=30)``."""
    return {"test": test, "quick": quick, "full": full}[mode(gpus)]


def supports_mixed_precision(gpus: Sequence[GPU]) -> bool:
    """True when every GPU has compute capability 7.0 or newer (tensor cores)."""
    if not gpus:
        return False
    return all(
        g.compute_capability is not None
        and tuple(g.compute_capability) >= MIXED_PRECISION_MIN_CAPABILITY
        for g in gpus
    )


def data_policy(current_mode: str) -> str:
    """One phrase describing where datasets come from in this mode."""
    if current_mode == "test":
        return "offline data only (test mode)"
    mirror = os.environ.get("COURSE_DATA_MIRROR")
    source = f"mirror {mirror}" if mirror else "official URLs"
    return f"local cache, then {source}, else offline fallback"


# Start-up lines TensorFlow's C++ core writes to stderr on every import, GPU or not.
_TF_STARTUP_NOISE = (
    "absl::InitializeLog",
    "cudart_stub.cc",
    "cpu_feature_guard.cc",
    "To enable the following instructions",
    "cuda_platform.cc",
    "Unable to register cu",
    "computation_placer.cc",
    "oneDNN custom operations are on",  # port.cc, on CPUs where TensorFlow uses oneDNN (AVX-512 ones)
)


def quiet_tensorflow() -> None:
    """Silence TensorFlow's C++ and Python info logs (call before importing TensorFlow)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")


@contextlib.contextmanager
def _filtered_stderr():
    """Hide TensorFlow's start-up chatter written straight to file descriptor 2.

    Everything else that reached stderr meanwhile is passed on unchanged.
    """
    try:
        fd = sys.__stderr__.fileno() if sys.__stderr__ else 2
        saved = os.dup(fd)
    except (OSError, ValueError, AttributeError):  # no real descriptor: nothing to filter
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as buf:
        sys.stderr.flush()
        os.dup2(buf.fileno(), fd)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, fd)
            os.close(saved)
            buf.seek(0)
            text = buf.read().decode("utf-8", "replace")
            kept = [ln for ln in text.splitlines() if not any(n in ln for n in _TF_STARTUP_NOISE)]
            if kept:
                print("\n".join(kept), file=sys.stderr)


def setup(
    seed: int = 0,
    *,
    precision: str | None = None,
    gpus: Sequence[GPU] | None = None,
    verbose: bool = True,
) -> RuntimeInfo:
    """Configure the run and print one summary line; return it as a :class:`RuntimeInfo`.

    Seeds Python, NumPy and the Keras backend with ``seed``; quiets TensorFlow's logs;
    detects GPUs (``gpus`` injects a fake list for tests) and sets the Keras dtype policy.
    ``precision`` (else ``COURSE_PRECISION``, else ``"auto"``) is one of ``"auto"``,
    ``"float32"`` or ``"mixed_float16"``; ``auto`` turns on ``mixed_float16`` on GPUs of
    compute capability 7.0 or newer and keeps ``float32`` everywhere else.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    _env_mode()  # fail on a bad COURSE_MODE or COURSE_PRECISION before the slow TensorFlow import
    requested = requested_precision(precision)
    quiet_tensorflow()

    with _filtered_stderr():
        import keras
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")
        from .distribute import split_cpu

        split_cpu()  # COURSE_DEVICES="CPU:0,CPU:1": logical CPU devices, before TensorFlow starts
        if gpus is None:
            gpus = detect_gpus()
    gpus = tuple(gpus)
    current_mode = mode(gpus)

    random.seed(seed)
    np.random.seed(seed)
    from .compat import set_random_seed

    set_random_seed(int(seed))

    policy = resolve_precision(requested, gpus)
    keras.mixed_precision.set_global_policy(policy)
    from .compat import add_missing_ops

    added = add_missing_ops()

    if gpus:
        names = sorted({g.device_name for g in gpus})
        device = f"{len(gpus)} GPU ({', '.join(names)})"
    else:
        device = f"CPU ({os.cpu_count() or 1} cores, {platform.machine()})"

    info = RuntimeInfo(
        mode=current_mode,
        backend=keras.backend.backend(),
        keras_version=keras.__version__,
        device=device,
        precision=policy,
        data_policy=data_policy(current_mode),
        seed=int(seed),
        gpus=gpus,
    )
    from .report import write_runtime

    write_runtime({"mode": info.mode, "precision": info.precision, "device": info.device})
    if verbose:
        print(info)
        if policy == "mixed_float16" and not gpus:
            print(cpu_mixed_precision_note())
        if added:
            print(f"Keras {keras.__version__} lacks keras.ops.{' and keras.ops.'.join(added)}: "
                  "course_utils.compat supplies them (Keras 3.11 and later have them).")
    return info


def cpu_mixed_precision_note() -> str:
    """One line for ``mixed_float16`` on a CPU: it is correct there, but slow."""
    note = ("note: mixed_float16 on a CPU runs the same Keras dtype paths as a GPU, but float16 "
            "is emulated and slow; COURSE_PRECISION=float32 is the fast choice here")
    if os.environ.get("TF_ENABLE_ONEDNN_OPTS", "").strip() != "0":
        note += " (if you keep it, start Python with TF_ENABLE_ONEDNN_OPTS=0: oneDNN's float16 kernels are slower still)"
    return note
