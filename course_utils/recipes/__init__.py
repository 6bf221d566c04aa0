"""Course-weight recipes, one small module per model family, and the by-name entry points.

``restoration`` (notebook 07: ``denoiser``, ``espcn``), ``gan`` (notebook 06: ``dcgan``, ``cgan``),
``diffusion`` (notebook 09: ``diffusion``, ``diffusion-cond``) and ``judge`` (the digit classifier
that scores the generative models). Each module holds ``RECIPES``, ``build(name)``, a ``Trainer``
and its evaluation; :mod:`course_utils.training` runs, checkpoints and publishes them, and
:mod:`course_utils.weights` reads the committed files.

Here, by name: :func:`family` (the module of a recipe), :func:`build` (its untrained network),
:func:`load_course_model` (that network with the committed weights, checksum verified),
:func:`train` and :func:`rescore` (what ``python -m course_utils.pretrain`` runs).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from .. import training, weights
from . import diffusion, gan, judge, restoration

#: Every recipe by name, and the module of its model family.
FAMILIES: dict[str, ModuleType] = {name: module for module in (restoration, gan, diffusion, judge)
                                   for name in module.RECIPES}
RECIPES: dict[str, dict[str, Any]] = {name: module.RECIPES[name] for name, module in FAMILIES.items()}


def family(name: str) -> ModuleType:
    """The recipe module that trains ``name`` (e.g. :mod:`course_utils.recipes.gan` for ``"dcgan"``)."""
    if name not in FAMILIES:
        raise ValueError(f"name must be one of {sorted(FAMILIES)}; got {name!r}")
    return FAMILIES[name]


def build(name: str):
    """The untrained network whose weights ``data/weights/<name>.weights.h5`` holds (for a GAN: its generator)."""
    model = family(name).build(name)
    return model[0] if isinstance(model, tuple) else model


def load_course_model(name: str, verify: bool = True):
    """Build the network of recipe ``name`` and load the committed course weights (checksum verified)."""
    return weights.load_weights(build(name), name, verify=verify)


def train(name: str, **kwargs) -> dict[str, Any]:
    """:func:`course_utils.training.train` for recipe ``name`` (``steps=`` or ``minutes=``, ``threads=``, ...)."""
    return training.train(family(name), name, **kwargs)


def rescore(name: str, *, threads: int = 2) -> dict[str, Any]:
    """:func:`course_utils.training.rescore` for recipe ``name``."""
    return training.rescore(family(name), name, threads=threads)
