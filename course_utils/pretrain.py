"""Train the course weights: ``python -m course_utils.pretrain NAME --steps N``.

This module is the command line only. One shared loop (:mod:`course_utils.training`) trains,
checkpoints and publishes every recipe; :mod:`course_utils.weights` reads and checks the
committed files; what a recipe *is* lives in a small module per model family under
:mod:`course_utils.recipes`:

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
:func:`course_utils.recipes.load_course_model` rebuilds the architecture and checks the sha256
before loading.
``python -m course_utils.pretrain NAME --rescore`` scores the committed weights again (after the
judge changed, say) and updates only the manifest's scores.
``python -m course_utils.pretrain baselines`` grid-searches the classical denoisers' settings.

Example: ``python -m course_utils.pretrain dcgan --steps 12000 --threads 2``.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from . import recipes
from .recipes import restoration


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m course_utils.pretrain", description=__doc__.split("\n")[0])
    p.add_argument("name", choices=[*recipes.RECIPES, "baselines"])
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
        restoration.tune()
        return
    if a.rescore:
        if a.steps is not None or a.minutes is not None or a.fresh:
            p.error("--rescore trains nothing: it takes no --steps, --minutes or --fresh")
        recipes.rescore(a.name, threads=a.threads)
        return
    steps, minutes = a.steps, a.minutes
    if steps is None and minutes is None:
        steps = recipes.RECIPES[a.name].get("default_steps")
        if steps is None:
            p.error(f"{a.name}: give --steps N (or --minutes M)")
    recipes.train(a.name, steps=steps, minutes=minutes, threads=a.threads, fresh=a.fresh,
                  command="python -m course_utils.pretrain " + shlex.join(args))


if __name__ == "__main__":
    main()
