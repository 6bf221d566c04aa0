"""The Colab setup cell, executed the way Colab runs it.

Colab runs the first code cell of every notebook in an IPython kernel where ``google.colab`` is
imported. Here the same cell (from :func:`course_utils.colab.setup_cell_source`, the template of
every notebook's first cell) runs in a real IPython kernel of a throw-away virtual environment,
with

- a stand-in ``google.colab`` module,
- the repository address pointing at a local clone of this project (``file://``), and
- a clean temporary folder standing in for ``/content``.

It must clone the course, install ``course_utils`` from the clone (editable), and leave the
kernel importing ``course_utils`` from the clone with its data and course weights in place; a
second run keeps the clone and what was saved in it; and outside Colab the cell does nothing.

The throw-away environment sees the test environment's packages through a path entry (so nothing
is downloaded but the build tool of the editable install) and its own ``pip``, so the editable
install never touches the environment that runs the tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course_utils import colab, paths

ROOT = paths.repo_root()
pytestmark = pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(),
                                reason="needs git and a clone of the course")

FAKE_COLAB = "import sys, types\nsys.modules['google'] = types.ModuleType('google')\nsys.modules['google.colab'] = types.ModuleType('google.colab')"
INSPECT = """import json, os, sys
import course_utils
from course_utils import data, weights
root = course_utils.paths.repo_root()
offline = sorted(p.name for p in (root / "data" / "offline" / "mnist").glob("*.gz"))
print(json.dumps({"cwd": os.getcwd(), "module": course_utils.__file__, "root": str(root),
                  "sys_path0": sys.path[0], "offline": offline,
                  "judge": str(weights.verified_path("judge")), "weights": weights.names(),
                  "digits": data.load_mnist_offline().source}))"""


@pytest.fixture(scope="module")
def colab_env(tmp_path_factory):
    """(a kernel name whose Python is a throw-away venv, its python, the source repository URL)."""
    base = tmp_path_factory.mktemp("colab")
    # The source: this project's committed state, on a branch named like the notebooks' setting.
    _, branch = colab.settings()
    source = base / "origin"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(source)], check=True)
    subprocess.run(["git", "-C", str(source), "checkout", "-q", "-B", branch], check=True)
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.check_output([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True).strip())
    # The test environment's packages (IPython, NumPy, ...), without processing its .pth files:
    # its editable course_utils is not importable in the throw-away environment.
    (site / "course_test_packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    kernels = base / "jupyter" / "kernels" / "colab-stand-in"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab stand-in", "language": "python"}))
    return {"base": base, "python": python, "repository": f"file://{source}", "jupyter": base / "jupyter"}


def _run(colab_env, cells, workdir: Path, monkeypatch) -> list[str]:
    """Run ``cells`` in one fresh kernel of the throw-away environment; the text each cell printed."""
    monkeypatch.setenv("JUPYTER_PATH", str(colab_env["jupyter"]))
    monkeypatch.delenv("COURSE_ROOT", raising=False)
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, kernel_name="colab-stand-in", timeout=300,
                   resources={"metadata": {"path": str(workdir)}}).execute()
    return ["".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout") for cell in nb.cells]


def test_the_notebooks_carry_the_template_tested_here():
    expected = colab.setup_cell_source()
    for nb_path in sorted(paths.notebooks_dir().glob("[0-9][0-9]_*.ipynb")):
        first = next(c for c in nbformat.read(nb_path, as_version=4).cells if c.cell_type == "code")
        assert first.source == expected, nb_path.name
    assert f"{colab.COLAB_TARGET}/.git" in expected and f"%cd {colab.COLAB_TARGET}/notebooks" in expected


def test_on_colab_the_cell_clones_installs_and_finds_data_and_weights(colab_env, monkeypatch):
    content = colab_env["base"] / "content"  # Colab's /content, empty
    content.mkdir()
    target = content / "course"
    cell = colab.setup_cell_source(repository=colab_env["repository"], target=str(target))
    out = _run(colab_env, [FAKE_COLAB, cell, INSPECT,
                           "import pathlib; p = pathlib.Path('../data/artifacts'); p.mkdir(parents=True, exist_ok=True); "
                           "(p / 'my_model.txt').write_text('mine'); print('saved')"], content, monkeypatch)
    seen = json.loads(out[2])
    assert (target / ".git").is_dir() and (target / "notebooks" / "00_setup.ipynb").is_file()
    assert seen["cwd"] == str(target / "notebooks")
    assert seen["module"] == str(target / "course_utils" / "__init__.py")  # from the clone
    assert seen["root"] == str(target) and seen["sys_path0"] == str(target)
    assert seen["offline"] == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    assert seen["judge"] == str(target / "data" / "weights" / "judge.weights.h5")  # checksum verified
    assert {"judge", "dcgan", "denoiser", "diffusion"} <= set(seen["weights"])
    assert seen["digits"] == "mnist-t10k"
    assert out[3].strip() == "saved"
    # The editable install: a new interpreter of that environment (a restarted Colab kernel)
    # imports course_utils from the clone without any sys.path help.
    fresh = subprocess.run([str(colab_env["python"]), "-c", "import course_utils; print(course_utils.__file__)"],
                           cwd=colab_env["base"], capture_output=True, text=True, check=True)
    assert fresh.stdout.strip() == str(target / "course_utils" / "__init__.py")

    # Run the cell again, as a student re-running it: the clone and what was saved stay.
    head = subprocess.check_output(["git", "-C", str(target), "rev-parse", "HEAD"], text=True)
    (target / "notebooks" / "scratch.ipynb").write_text("{}")  # a student's own notebook
    out = _run(colab_env, [FAKE_COLAB, cell, INSPECT], content, monkeypatch)
    assert json.loads(out[2])["module"] == str(target / "course_utils" / "__init__.py")
    assert (target / "data" / "artifacts" / "my_model.txt").read_text() == "mine"
    assert (target / "notebooks" / "scratch.ipynb").read_text() == "{}"
    assert subprocess.check_output(["git", "-C", str(target), "rev-parse", "HEAD"], text=True) == head


def test_outside_colab_the_cell_does_nothing(colab_env, monkeypatch):
    work = colab_env["base"] / "elsewhere"
    work.mkdir()
    target = colab_env["base"] / "not-created"
    cell = colab.setup_cell_source(repository=colab_env["repository"], target=str(target))
    out = _run(colab_env, ["import os, sys; before = (os.getcwd(), list(sys.path))", cell,
                           "print(before == (os.getcwd(), list(sys.path)), 'google.colab' in sys.modules)"],
               work, monkeypatch)
    assert out[2].split() == ["True", "False"]
    assert not target.exists() and list(work.iterdir()) == []
