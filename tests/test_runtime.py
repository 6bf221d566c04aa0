"""The run-mode switch, budgets and setup(), including the GPU branches with fake devices."""

from __future__ import annotations

import os
import subprocess
import sys

import keras
import pytest

from course_utils import runtime
from course_utils.runtime import GPU

V100 = GPU("/physical_device:GPU:0", "Tesla V100", (7, 0))
T4 = GPU("/physical_device:GPU:0", "Tesla T4", (7, 5))
K80 = GPU("/physical_device:GPU:0", "Tesla K80", (3, 7))


@pytest.fixture(autouse=True)
def _reset_policy(monkeypatch):
    monkeypatch.delenv("COURSE_PRECISION", raising=False)
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("name", ["test", "quick", "full", " QUICK "])
def test_mode_from_environment(monkeypatch, name):
    monkeypatch.setenv("COURSE_MODE", name)
    assert runtime.mode(gpus=[]) == name.strip().lower()


def test_unset_mode_depends_on_gpu(monkeypatch):
    monkeypatch.delenv("COURSE_MODE", raising=False)
    assert runtime.mode(gpus=[]) == "quick"
    assert runtime.mode(gpus=[T4]) == "full"


def test_unset_mode_detects_real_devices(monkeypatch):
    monkeypatch.delenv("COURSE_MODE", raising=False)
    expected = "full" if runtime.detect_gpus() else "quick"
    assert runtime.mode() == expected


def test_invalid_mode_names_valid_values(monkeypatch):
    monkeypatch.setenv("COURSE_MODE", "fast")
    with pytest.raises(ValueError) as err:
        runtime.mode()
    message = str(err.value)
    assert "\n" not in message
    for valid in ("test", "quick", "full"):
        assert valid in message
    assert "'fast'" in message


def test_invalid_mode_from_command_line_is_one_line():
    code = "import course_utils.runtime as r; r.mode()"
    env = {"COURSE_MODE": "fast", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last == "ValueError: COURSE_MODE='fast' is not a run mode; use one of: test, quick, full"


def test_budget_picks_current_mode(monkeypatch):
    for name, expected in [("test", 1), ("quick", 5), ("full", 30)]:
        monkeypatch.setenv("COURSE_MODE", name)
        assert runtime.budget(test=1, quick=5, full=30) == expected
    monkeypatch.delenv("COURSE_MODE")
    assert runtime.budget(test=1, quick=5, full=30, gpus=[T4]) == 30
    assert runtime.budget(test=1, quick=5, full=30, gpus=[]) == 5


def test_budget_requires_all_three_modes():
    with pytest.raises(TypeError):
        runtime.budget(test=1, quick=2)  # type: ignore[call-arg]


def test_is_test_mode_never_imports_tensorflow():
    code = (
        "import os, sys; os.environ['COURSE_MODE'] = 'test'\n"
        "import course_utils, course_utils.runtime as r\n"
        "assert r.is_test_mode()\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


@pytest.mark.parametrize(
    "gpus, expected",
    [([], False), ([K80], False), ([V100], True), ([T4], True), ([T4, K80], False),
     ([GPU("gpu:0", "unknown", None)], False)],
)
def test_mixed_precision_needs_capability_7(gpus, expected):
    assert runtime.supports_mixed_precision(gpus) is expected


def test_setup_on_cpu(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_MODE", "test")
    info = runtime.setup(seed=3, gpus=[])
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [str(info)]
    assert info.mode == "test" and info.seed == 3
    assert info.precision == "float32" and keras.mixed_precision.global_policy().name == "float32"
    assert info.device.startswith("CPU") and info.gpus == ()
    assert info.backend == keras.backend.backend() == "tensorflow"
    assert "offline" in info.data_policy
    for part in ("mode=test", "Keras", "device=CPU", "precision=float32", "data="):
        assert part in out[0]


def test_setup_with_fake_modern_gpu_turns_on_mixed_precision(monkeypatch):
    monkeypatch.delenv("COURSE_MODE", raising=False)
    info = runtime.setup(gpus=[T4, T4], verbose=False)
    assert info.mode == "full"
    assert info.precision == "mixed_float16"
    assert keras.mixed_precision.global_policy().name == "mixed_float16"
    assert info.device == "2 GPU (Tesla T4)"


def test_setup_with_fake_old_gpu_keeps_float32(monkeypatch):
    monkeypatch.setenv("COURSE_MODE", "quick")
    info = runtime.setup(gpus=[K80], verbose=False)
    assert info.mode == "quick" and info.precision == "float32"
    assert keras.mixed_precision.global_policy().name == "float32"


@pytest.mark.parametrize(
    "requested, gpus, expected",
    [
        ("auto", [], "float32"),
        ("auto", [K80], "float32"),
        ("auto", [T4], "mixed_float16"),
        ("float32", [T4], "float32"),  # how to turn mixed precision off on a GPU
        ("mixed_float16", [], "mixed_float16"),  # the CPU path CI runs
    ],
)
def test_precision_setting(monkeypatch, requested, gpus, expected):
    monkeypatch.setenv("COURSE_MODE", "test")
    info = runtime.setup(precision=requested, gpus=gpus, verbose=False)
    assert info.precision == expected == keras.mixed_precision.global_policy().name
    assert f"precision={expected}" in str(info)


def test_precision_from_environment(monkeypatch):
    monkeypatch.setenv("COURSE_MODE", "test")
    monkeypatch.setenv("COURSE_PRECISION", " Mixed_Float16 ")
    assert runtime.setup(gpus=[], verbose=False).precision == "mixed_float16"
    # an explicit argument wins over the environment
    assert runtime.setup(precision="float32", gpus=[], verbose=False).precision == "float32"


def test_bad_precision_is_a_one_line_error(monkeypatch):
    monkeypatch.setenv("COURSE_MODE", "test")
    with pytest.raises(ValueError) as err:
        runtime.setup(precision="float16", gpus=[], verbose=False)
    message = str(err.value)
    assert "\n" not in message
    assert "precision='float16'" in message and "auto, float32, mixed_float16" in message
    monkeypatch.setenv("COURSE_PRECISION", "half")
    with pytest.raises(ValueError, match="COURSE_PRECISION='half'.*auto, float32, mixed_float16"):
        runtime.setup(gpus=[], verbose=False)


def test_setup_seeds_every_generator(monkeypatch):
    import random

    import numpy as np

    monkeypatch.setenv("COURSE_MODE", "test")
    draws = []
    for _ in range(2):
        runtime.setup(seed=7, gpus=[], verbose=False)
        draws.append((random.random(), np.random.rand(), float(keras.random.uniform(()))))
    assert draws[0] == draws[1]


def test_setup_mentions_mirror(monkeypatch):
    monkeypatch.setenv("COURSE_MODE", "quick")
    monkeypatch.setenv("COURSE_DATA_MIRROR", "http://10.0.0.5:8000/")
    assert "mirror http://10.0.0.5:8000/" in runtime.setup(gpus=[], verbose=False).data_policy


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_setup_rejects_bad_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        runtime.setup(seed=seed, gpus=[], verbose=False)


def test_setup_rejects_bad_mode_before_importing(monkeypatch):
    monkeypatch.setenv("COURSE_MODE", "fast")
    with pytest.raises(ValueError, match="test, quick, full"):
        runtime.setup(gpus=[])


def test_filtered_stderr_drops_tensorflow_startup_lines_only(capfd):
    # Lines written straight to file descriptor 2, as TensorFlow's C++ core does.
    noise = (
        "I0000 00:00:1.0  1 port.cc:153] oneDNN custom operations are on. You may see slightly "
        "different numerical results due to floating-point round-off errors.\n"
        "I0000 00:00:1.0  1 cpu_feature_guard.cc:210] This TensorFlow binary is optimized ...\n"
    )
    other = "E0000 00:00:1.0  1 some_kernel.cc:1] a real error must stay visible\n"
    with runtime._filtered_stderr():
        os.write(2, (noise + other).encode())
    err = capfd.readouterr().err
    assert "a real error must stay visible" in err
    assert "oneDNN" not in err and "cpu_feature_guard" not in err


def test_mixed_precision_on_a_cpu_says_it_is_slow(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_MODE", "test")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    runtime.setup(precision="mixed_float16", gpus=[])
    summary, note = capsys.readouterr().out.strip().splitlines()
    assert "precision=mixed_float16" in summary
    assert note.startswith("note: mixed_float16 on a CPU") and "TF_ENABLE_ONEDNN_OPTS=0" in note
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    assert "TF_ENABLE_ONEDNN_OPTS" not in runtime.cpu_mixed_precision_note()
    runtime.setup(precision="mixed_float16", gpus=[T4])  # on a GPU: the summary line only
    assert len(capsys.readouterr().out.strip().splitlines()) == 1
