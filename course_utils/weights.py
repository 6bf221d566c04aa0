"""The course weights on disk: where they live, their manifests and checksums, and loading them.

``data/weights/<name>.weights.h5`` holds the weights of one committed model (a Keras
``save_weights`` file, no optimiser state) and ``<name>.json`` its manifest: the file's sha256
and size, the exact command that trained it, the recipe, architecture, data, steps, versions
and held-out scores (``python -m course_utils.pretrain NAME`` writes both; see
``data/weights/README.md``).

This module knows files, not architectures: :func:`load_weights` checks the file against its
manifest and loads it into a model the caller built. The model families say how to build their
networks and load them by name (:func:`course_utils.classifier.load_judge`,
:func:`course_utils.recipes.load_course_model`, ``load_course_generator`` and
``load_course_unet`` in :mod:`course_utils.recipes`). It imports nothing but
:mod:`course_utils.paths`, so every other module may use it.

Example::

    from course_utils import weights
    weights.read_manifest("dcgan")["heldout"]["frechet_distance"]   # [value, low, high]
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from . import paths

_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name must be a course-weight name such as 'dcgan' (lower-case letters, digits "
                         f"and '-'), got {name!r}")
    return name


def weights_dir() -> Path:
    """``data/weights`` in the repository (committed, unlike ``data/cache`` and ``data/artifacts``)."""
    return paths.repo_root() / "data" / "weights"


def weights_path(name: str) -> Path:
    """``data/weights/<name>.weights.h5``."""
    return weights_dir() / f"{_check_name(name)}.weights.h5"


def manifest_path(name: str) -> Path:
    """``data/weights/<name>.json``, the manifest of :func:`weights_path`."""
    return weights_dir() / f"{_check_name(name)}.json"


def names() -> list[str]:
    """The names of the committed course weights (every manifest in :func:`weights_dir`), sorted."""
    folder = weights_dir()
    return sorted(p.name[:-len(".json")] for p in folder.glob("*.json")) if folder.is_dir() else []


def sha256(path: str | os.PathLike) -> str:
    """The hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest(name: str) -> dict[str, Any]:
    """The manifest of the course weights ``name`` as a dict.

    Raises ``FileNotFoundError`` (saying how to train them) when it is missing and ``ValueError``
    when it is not valid JSON.
    """
    path = manifest_path(name)
    if not path.is_file():
        raise FileNotFoundError(f"no manifest {path}; the committed course weights are {names()}, and "
                                f"`python -m course_utils.pretrain {name}` trains a recipe of that name")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err}); restore it with `git checkout -- {path.name}` "
                         "in data/weights") from err


def write_manifest(name: str, manifest: dict[str, Any]) -> Path:
    """Write ``manifest`` as ``<name>.json`` (indented, newline-terminated), whole or not at all."""
    path = manifest_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def verified_path(name: str) -> Path:
    """The weights file of ``name`` after checking it against its manifest's sha256.

    Raises ``FileNotFoundError`` when the file or the manifest is missing and ``ValueError`` when
    the checksum differs (a corrupt file, or weights changed without their manifest).
    """
    path, manifest = weights_path(name), manifest_path(name)
    if not path.exists() or not manifest.exists():
        raise FileNotFoundError(f"course weights {path} or manifest {manifest} are missing; "
                                f"train them with `python -m course_utils.pretrain {name}`")
    expected = read_manifest(name)["sha256"]
    got = sha256(path)
    if got != expected:
        raise ValueError(f"{path} has sha256 {got}, but the manifest says {expected}; "
                         "the file is corrupt or was changed without updating the manifest")
    return path


def load_weights(model, name: str, *, verify: bool = True):
    """Load the committed weights ``name`` into ``model`` (built by the caller) and return it.

    With ``verify`` (the default) the file is first checked against its manifest
    (:func:`verified_path`). The model must have the architecture the weights were saved from.
    """
    path = verified_path(name) if verify else weights_path(name)
    if not verify and not path.exists():
        raise FileNotFoundError(f"course weights {path} are missing; train them with "
                                f"`python -m course_utils.pretrain {name}`")
    model.load_weights(path)
    return model
