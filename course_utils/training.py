"""The shared training loop of the course weights: run a recipe, checkpoint it, publish it.

Every model family under :mod:`course_utils.recipes` describes one or more recipes and gives a
``Trainer``: ``steps_per_epoch`` (and optionally ``steps_per_chunk``), ``set_final_phase(final)``
(returns the learning rate), ``train(epoch, start, n)`` (returns the loss), ``save(path)`` and
``load(path)`` (a checkpoint), ``export()`` (the network the weights file holds),
``evaluate(model=None)`` (held-out scores of ``model``, by default the trained network) and
``describe()`` (architecture and data for the manifest). This module runs any of them the same
way:

- :func:`train` trains exactly ``steps`` optimiser steps (or for ``minutes``), saving a
  checkpoint to ``data/cache/pretrain/`` after every chunk, so the same call continues where a
  stopped run left off; it then evaluates the model on held-out data and writes the weights and
  their manifest to ``data/weights/`` (:mod:`course_utils.weights`);
- :func:`rescore` scores the committed weights again and rewrites only the manifest's scores;
- :func:`save_variables` and :func:`load_variables` are the checkpoint format of the trainers
  that keep their own variables (the judge, the GANs, the diffusion models);
- :func:`digits_pm1` is the data of the generative recipes.

The command line over all of this is :mod:`course_utils.pretrain`; the by-name entry points are
:func:`course_utils.recipes.train` and :func:`course_utils.recipes.rescore`.
"""

from __future__ import annotations

import json
import os
import platform
import time
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from . import paths, weights


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------

def digits_pm1():
    """The real digits the generative recipes train on, in [-1, 1], with labels and the loader's result."""
    from . import data

    loaded = data.load_mnist(verbose=False)
    (x, y), _ = loaded
    return (x.astype("float32") / 127.5 - 1.0), np.asarray(y, np.int32), loaded


# --------------------------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------------------------

def check_budget(steps: int | None, minutes: float | None) -> None:
    """Exactly one of ``steps`` (a positive integer) and ``minutes`` (a positive number)."""
    if (steps is None) == (minutes is None):
        raise ValueError("give exactly one of steps (an optimiser-step count) and minutes (a time budget)")
    if steps is not None and (not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 1):
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if minutes is not None and not (isinstance(minutes, (int, float)) and minutes > 0):
        raise ValueError(f"minutes must be a positive number, got {minutes!r}")


def _set_threads(threads: int) -> None:
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow already started in this process (e.g. in a test): keep its threads
        pass


def _recipe(family: ModuleType, name: str) -> dict[str, Any]:
    recipes = getattr(family, "RECIPES", None)
    if not isinstance(recipes, dict) or not hasattr(family, "Trainer"):
        raise ValueError(f"family must be a recipe module with RECIPES and a Trainer, got {family!r}")
    if name not in recipes:
        raise ValueError(f"name must be one of {sorted(recipes)} for {family.__name__}; got {name!r}")
    return recipes[name]


def train(family: ModuleType, name: str, *, steps: int | None = None, minutes: float | None = None,
          threads: int = 2, fresh: bool = False, steps_per_chunk: int = 25,
          command: str | None = None) -> dict[str, Any]:
    """Train recipe ``name`` of ``family`` for ``steps`` optimiser steps (or ``minutes``), then publish it.

    Resumes from the checkpoint in ``data/cache/pretrain/`` unless ``fresh``; writes the weights
    and the manifest to ``data/weights/`` and returns the manifest. With ``steps`` the final
    phase (a lower learning rate, where the recipe has one) is the last quarter of the steps,
    with ``minutes`` the last quarter of the time.
    """
    recipe = _recipe(family, name)
    check_budget(steps, minutes)
    _set_threads(threads)
    import keras
    import tensorflow as tf

    trainer = family.Trainer(name)
    ckpt_dir = paths.cache_dir() / "pretrain"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    ckpt, state_file = ckpt_dir / name, ckpt_dir / f"{name}.state.json"
    budget = {"steps": steps} if steps is not None else {"minutes": minutes}
    state = {"elapsed_s": 0.0, "steps": 0, "epoch": 0, "pos": 0, "log": [], "budget": budget}
    if not fresh and state_file.exists():
        saved = json.loads(state_file.read_text())
        if saved.get("budget") == budget:
            try:
                trainer.load(ckpt)
            except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as err:
                raise ValueError(f"the checkpoint of {name} in {ckpt_dir} cannot be read ({type(err).__name__}: "
                                 f"{err}); run the command again with --fresh to start over") from err
            state = saved
            print(f"resuming {name}: {state['steps']} steps, {state['elapsed_s'] / 60:.1f} min done", flush=True)
        else:
            print(f"{name}: the checkpoint was made for {saved.get('budget')}, not {budget}; starting over",
                  flush=True)

    def done() -> bool:
        return state["steps"] >= steps if steps is not None else state["elapsed_s"] >= minutes * 60.0

    def final_phase() -> bool:
        if steps is not None:
            return state["steps"] >= 0.75 * steps
        return state["elapsed_s"] >= 0.75 * minutes * 60.0

    spe = trainer.steps_per_epoch
    steps_per_chunk = getattr(trainer, "steps_per_chunk", steps_per_chunk)
    while not done():
        lr = trainer.set_final_phase(final_phase())
        n = min(steps_per_chunk, spe - state["pos"])
        if steps is not None:
            n = min(n, steps - state["steps"])
        t0 = time.time()
        loss = trainer.train(state["epoch"], state["pos"], n)
        state["elapsed_s"] += time.time() - t0
        state["steps"] += n
        state["pos"] += n
        if state["pos"] >= spe:
            state["epoch"], state["pos"] = state["epoch"] + 1, 0
        state["log"].append([state["steps"], round(state["elapsed_s"], 1), loss, lr])
        total = f"{steps}" if steps is not None else f"{minutes:g} min"
        print(f"{name}: step {state['steps']}/{total} epoch {state['epoch']} "
              f"{state['elapsed_s'] / 60:.1f} min loss {loss:.4g} lr {lr:g}", flush=True)
        trainer.save(ckpt)
        state_file.write_text(json.dumps(state))

    print(f"{name}: evaluating on held-out data", flush=True)
    t0 = time.time()
    scores = trainer.evaluate()
    weights.weights_dir().mkdir(parents=True, exist_ok=True)
    out = weights.weights_path(name)
    trainer.export().save_weights(out)
    manifest = {
        "name": name,
        "file": out.name,
        "sha256": weights.sha256(out),
        "bytes": out.stat().st_size,
        **trainer.describe(),
        "recipe": {k: v for k, v in recipe.items() if k not in ("builder", "kwargs", "default_steps")},
        "steps": state["steps"],
        "epochs": round(state["steps"] / spe, 2),
        "train_wall_time_min": round(state["elapsed_s"] / 60, 1),
        "eval_wall_time_min": round((time.time() - t0) / 60, 1),
        "threads": threads,
        "machine": f"{platform.machine()} CPU, shared with other jobs (times are under load)",
        "versions": {"python": platform.python_version(), "keras": keras.__version__,
                     "tensorflow": tf.__version__, "numpy": np.__version__},
        "command": command or f"python -m course_utils.pretrain {name} "
                              + (f"--steps {steps}" if steps is not None else f"--minutes {minutes:g}")
                              + f" --threads {threads}",
        "heldout": scores,
        "loss_log_every_chunk": state["log"][-10:],
    }
    weights.write_manifest(name, manifest)
    print(json.dumps(scores, indent=1))
    print(f"wrote {out} ({manifest['bytes']} bytes) and {weights.manifest_path(name)}")
    return manifest


def rescore(family: ModuleType, name: str, *, threads: int = 2) -> dict[str, Any]:
    """Score the committed weights of recipe ``name`` of ``family`` again (e.g. after the judge changed).

    Loads ``data/weights/<name>.weights.h5`` (checksum verified), runs the recipe's held-out
    evaluation and rewrites only the manifest's ``heldout`` scores, ``judge`` (for the generative
    recipes) and ``rescored`` (the command); the weights, steps and training command stay as they
    were. Returns the manifest.
    """
    _recipe(family, name)
    _set_threads(threads)
    manifest = weights.read_manifest(name)
    trainer = family.Trainer(name)
    network = weights.load_weights(trainer.export(), name)
    t0 = time.time()
    manifest["heldout"] = trainer.evaluate(model=network)
    manifest["eval_wall_time_min"] = round((time.time() - t0) / 60, 1)
    described = trainer.describe()
    if "judge" in described:
        manifest["judge"] = described["judge"]
    manifest["rescored"] = f"python -m course_utils.pretrain {name} --rescore"
    weights.write_manifest(name, manifest)
    print(json.dumps(manifest["heldout"], indent=1))
    return manifest
