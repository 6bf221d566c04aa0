"""Train the course weights: ``python -m course_utils.pretrain NAME --steps N``.

One shared path trains, checkpoints and publishes every recipe; what a recipe *is* lives in a
small module per model family under :mod:`course_utils.recipes`:

- ``denoiser``, ``espcn`` (notebook 07, :mod:`course_utils.recipes.restoration`): the notebook's
  restoration architectures on patches of the **training** photos, scored on the held-out photos
  against the classical baselines;
- ``dcgan``, ``cgan`` (notebook 06, :mod:`course_utils.recipes.gan`): the notebook's DCGAN and
  conditional GAN on the real digits (``course_utils.data.load_mnist``), scored by the course
  judge on held-out digits (Frechet distance with a bootstrap interval, the real-vs-real
  floor, class coverage, and for the conditional GAN the judged label accuracy);
- ``diffusion``, ``diffusion-cond`` (notebook 09, :mod:`course_utils.recipes.diffusion`): the
  notebook's U-Net noise predictor, unconditional and class-conditional (label dropout for
  classifier-free guidance), on the same digits; the file holds the EMA weights, scored with the
  judge on DDIM samples like the GANs (and, for the conditional model, over guidance weights);
- ``judge`` (:mod:`course_utils.recipes.judge`): the digit classifier that scores every
  generative model (notebooks 05, 06 and 09 and the generative course weights), trained on the
  offline digits so that it is the same file everywhere.

``--steps N`` trains exactly N optimiser steps, so the weights are reproducible by step count
(the same recipe, data order and seeds; scores can still differ slightly between machines,
within their intervals, because CPU floating-point sums are not bit-identical across runs).
``--minutes M`` instead bounds the training time (the older restoration weights were made that
way; their manifests record the steps they reached). With ``--steps`` the restoration recipes
drop the learning rate tenfold for the last quarter of the steps, with ``--minutes`` for the last
quarter of the time. A checkpoint is saved to ``data/cache/pretrain/`` after every chunk of steps,
and running the same command again continues from it (``--fresh`` starts over). ``--threads``
limits TensorFlow's CPU threads (the course machine is shared).

The result is ``data/weights/<name>.weights.h5`` (weights only, no optimizer state) and
``<name>.json``, the manifest: sha256 of the weights file, the exact command, recipe,
architecture, data, steps, wall time, versions and held-out scores.
:func:`load_course_model` rebuilds the architecture and checks the sha256 before loading.
``python -m course_utils.pretrain NAME --rescore`` scores the committed weights again (after the
judge changed, say) and updates only the manifest's scores.
``python -m course_utils.pretrain baselines`` grid-searches the classical denoisers' settings.

Example: ``python -m course_utils.pretrain dcgan --steps 12000 --threads 2``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import shlex
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from . import paths
from .recipes import diffusion as diffusion_recipes
from .recipes import gan as gan_recipes
from .recipes import judge as judge_recipes
from .recipes import restoration as restoration_recipes
from .recipes.restoration import SCALE, SIGMA, evaluate, make_batch  # noqa: F401  (the names notebook 07 used)

#: Every recipe by name, and the module of its model family.
FAMILIES = {name: restoration_recipes for name in restoration_recipes.RECIPES}
FAMILIES.update({name: gan_recipes for name in gan_recipes.RECIPES})
FAMILIES.update({name: diffusion_recipes for name in diffusion_recipes.RECIPES})
FAMILIES.update({name: judge_recipes for name in judge_recipes.RECIPES})
RECIPES: dict[str, dict[str, Any]] = {**restoration_recipes.RECIPES, **gan_recipes.RECIPES,
                                      **diffusion_recipes.RECIPES, **judge_recipes.RECIPES}


def weights_dir() -> Path:
    """``data/weights`` in the repository (committed, unlike data/cache and data/artifacts)."""
    return paths.repo_root() / "data" / "weights"


def weights_path(name: str) -> Path:
    return weights_dir() / f"{name}.weights.h5"


def manifest_path(name: str) -> Path:
    return weights_dir() / f"{name}.json"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _family(name: str):
    if name not in FAMILIES:
        raise ValueError(f"name must be one of {sorted(FAMILIES)}; got {name!r}")
    return FAMILIES[name]


def build(name: str):
    """The untrained model whose weights ``<name>.weights.h5`` holds (for a GAN: its generator)."""
    family = _family(name)
    model = family.build(name)
    return model[0] if isinstance(model, tuple) else model


def load_course_model(name: str, verify: bool = True):
    """Build the architecture and load the committed course weights (checksum verified)."""
    _family(name)
    path, manifest = weights_path(name), manifest_path(name)
    if not path.exists() or not manifest.exists():
        raise FileNotFoundError(f"course weights {path} or manifest {manifest} are missing; "
                                f"train them with `python -m course_utils.pretrain {name}`")
    if verify:
        expected = json.loads(manifest.read_text())["sha256"]
        got = sha256(path)
        if got != expected:
            raise ValueError(f"{path} has sha256 {got}, but the manifest says {expected}; "
                             "the file is corrupt or was changed without updating the manifest")
    model = build(name)
    model.load_weights(path)
    return model


def _check_budget(steps: int | None, minutes: float | None) -> None:
    if (steps is None) == (minutes is None):
        raise ValueError("give exactly one of steps (an optimiser-step count) and minutes (a time budget)")
    if steps is not None and (not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 1):
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if minutes is not None and not (isinstance(minutes, (int, float)) and minutes > 0):
        raise ValueError(f"minutes must be a positive number, got {minutes!r}")


def train(name: str, *, steps: int | None = None, minutes: float | None = None, threads: int = 2,
          fresh: bool = False, steps_per_chunk: int = 25, command: str | None = None) -> dict[str, Any]:
    """Train recipe ``name`` for ``steps`` optimiser steps (or ``minutes``), then publish it.

    Resumes from the checkpoint in ``data/cache/pretrain/`` unless ``fresh``; writes the weights
    and the manifest to ``data/weights/`` and returns the manifest.
    """
    family = _family(name)
    _check_budget(steps, minutes)
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow already started in this process (e.g. in a test): keep its threads
        pass
    import keras

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
    weights_dir().mkdir(parents=True, exist_ok=True)
    out = weights_path(name)
    trainer.export().save_weights(out)
    recipe = {k: v for k, v in RECIPES[name].items() if k not in ("builder", "kwargs", "default_steps")}
    manifest = {
        "name": name,
        "file": out.name,
        "sha256": sha256(out),
        "bytes": out.stat().st_size,
        **trainer.describe(),
        "recipe": recipe,
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
    manifest_path(name).write_text(json.dumps(manifest, indent=1) + "\n")
    print(json.dumps(scores, indent=1))
    print(f"wrote {out} ({manifest['bytes']} bytes) and {manifest_path(name)}")
    return manifest


def rescore(name: str, *, threads: int = 2) -> dict[str, Any]:
    """Score the committed weights of ``name`` again (e.g. after the judge changed).

    Loads ``data/weights/<name>.weights.h5`` (checksum verified), runs the recipe's held-out
    evaluation and rewrites only the manifest's ``heldout`` scores, ``judge`` (for the generative
    recipes) and ``rescored`` (the command); the weights, steps and training command stay as they
    were. Returns the manifest.
    """
    family = _family(name)
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass
    manifest = json.loads(manifest_path(name).read_text())
    trainer = family.Trainer(name)
    trainer.export().set_weights(load_course_model(name).get_weights())
    t0 = time.time()
    manifest["heldout"] = trainer.evaluate()
    manifest["eval_wall_time_min"] = round((time.time() - t0) / 60, 1)
    described = trainer.describe()
    if "judge" in described:
        manifest["judge"] = described["judge"]
    manifest["rescored"] = f"python -m course_utils.pretrain {name} --rescore"
    manifest_path(name).write_text(json.dumps(manifest, indent=1) + "\n")
    print(json.dumps(manifest["heldout"], indent=1))
    return manifest


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m course_utils.pretrain", description=__doc__.split("\n")[0])
    p.add_argument("name", choices=[*RECIPES, "baselines"])
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, help="train exactly this many optimiser steps (reproducible)")
    budget.add_argument("--minutes", type=float, help="training-time budget instead of a step count")
    p.add_argument("--threads", type=int, default=2, help="TensorFlow intra-op threads")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    p.add_argument("--rescore", action="store_true",
                   help="only score the committed weights again and update their manifest's scores")
    args = sys.argv[1:] if argv is None else list(argv)
    a = p.parse_args(args)
    if a.name == "baselines":
        restoration_recipes.tune()
        return
    if a.rescore:
        if a.steps is not None or a.minutes is not None or a.fresh:
            p.error("--rescore trains nothing: it takes no --steps, --minutes or --fresh")
        rescore(a.name, threads=a.threads)
        return
    steps, minutes = a.steps, a.minutes
    if steps is None and minutes is None:
        steps = RECIPES[a.name].get("default_steps")
        if steps is None:
            p.error(f"{a.name}: give --steps N (or --minutes M)")
    train(a.name, steps=steps, minutes=minutes, threads=a.threads, fresh=a.fresh,
          command="python -m course_utils.pretrain " + shlex.join(args))


if __name__ == "__main__":
    main()
