"""Run notebooks headlessly and report status, wall time, peak memory and recorded metrics.

Usage::

    python -m course_utils run [--mode M] [--precision P] [-p NAME=VALUE ...] [NOTEBOOK ...]
                               [--inplace] [--json PATH]

Each notebook runs in a fresh kernel (nbclient) with ``COURSE_MODE`` set. A notebook is
named by path, by file name, by stem (``00_setup``) or by its two-digit prefix (``02``);
with no names, every notebook in ``notebooks/`` runs. ``--inplace`` writes the executed
outputs back into the notebook (only when it succeeded, so no stored output is an error).

``-p NAME=VALUE`` overrides a name set in the notebook's cell tagged ``parameters``, as
papermill does: the runner inserts a cell tagged ``injected-parameters`` right after it.
VALUE is a Python literal (``-p DATASET='"cifar10"'``, ``-p EPOCHS=2``, ``-p OWN_IMAGE=None``).
``--precision`` sets ``COURSE_PRECISION`` (``auto``, ``float32`` or ``mixed_float16``) for the
kernel. The JSON report records each run's parameters and the precision in effect.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

from . import paths, report
from .runtime import MODES, PRECISION_ENV, PRECISIONS

ONEDNN_ENV = "TF_ENABLE_ONEDNN_OPTS"
PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"


@dataclass
class Result:
    name: str
    mode: str
    status: str  # "ok" or "failed"
    seconds: float
    peak_rss_mb: float | None
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    precision: str | None = None  # the Keras policy setup() chose in the kernel (None: no setup)
    precision_requested: str = "auto"  # COURSE_PRECISION as the kernel saw it


    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        if out["error"] is None:
            out.pop("error")
        return out


class MemoryMonitor:
    """Poll a process tree's resident memory in a thread and keep the peak (in bytes)."""

    def __init__(self, interval: float = 0.1):
        self.interval = interval
        self.peak = 0
        self._pid: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, pid: int) -> None:
        self._pid = pid
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        import psutil

        try:
            proc = psutil.Process(self._pid)
            total = proc.memory_info().rss
            for child in proc.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total, _high_water_mark(self._pid))
        except psutil.Error:
            pass

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def stop(self) -> float | None:
        """Stop polling; the peak in MB, or ``None`` if the process was never seen."""
        if self._thread is not None:
            self._sample()
            self._stop.set()
            self._thread.join()
        return round(self.peak / 2**20, 1) if self.peak else None


def _high_water_mark(pid: int | None) -> int:
    """Linux's exact peak RSS of one process (VmHWM), 0 where unavailable."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def resolve(names: Sequence[str], notebook_dir: Path | None = None) -> list[Path]:
    """Turn notebook names (paths, stems or two-digit prefixes) into paths, in order."""
    notebook_dir = notebook_dir or paths.notebooks_dir()
    available = sorted(notebook_dir.glob("[0-9][0-9]_*.ipynb")) if notebook_dir.is_dir() else []
    if not names:
        if not available:
            raise ValueError(f"no notebooks found in {notebook_dir}")
        return available
    found = []
    for name in names:
        path = Path(name)
        if path.suffix == ".ipynb" and path.is_file():
            found.append(path.resolve())
            continue
        stem = path.stem if path.suffix == ".ipynb" else name
        matches = [p for p in available if p.stem == stem or p.stem.startswith(stem + "_")]
        if len(matches) != 1:
            names_list = ", ".join(p.stem for p in available) or "none"
            raise ValueError(
                f"notebook {name!r} matches {len(matches)} notebooks; expected one of: {names_list}"
            )
        found.append(matches[0])
    return found


def parse_parameter(text: str) -> tuple[str, Any]:
    """Split ``NAME=VALUE`` and evaluate VALUE as a Python literal; ``ValueError`` otherwise."""
    name, sep, raw = str(text).partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise ValueError(f"parameter {text!r} is not NAME=VALUE (e.g. -p DATASET='\"cifar10\"')")
    try:
        value = ast.literal_eval(raw.strip())
    except (ValueError, SyntaxError):
        raise ValueError(
            f"parameter {name}: {raw!r} is not a Python literal; quote strings, "
            f"e.g. -p {name}='\"{raw.strip()}\"'"
        ) from None
    return name, value


def parameter_names(nb: Any) -> tuple[int, list[str]]:
    """The index of the notebook's ``parameters`` cell and the names it assigns, in order."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
            names: list[str] = []
            for node in ast.parse(cell.source).body:
                targets = node.targets if isinstance(node, ast.Assign) else (
                    [node.target] if isinstance(node, ast.AnnAssign) else []
                )
                for target in targets:
                    for leaf in ast.walk(target):
                        if isinstance(leaf, ast.Name) and leaf.id not in names:
                            names.append(leaf.id)
            return index, names
    raise ValueError("the notebook has no code cell tagged 'parameters'")


def inject_parameters(nb: Any, parameters: dict[str, Any], *, name: str = "notebook") -> None:
    """Insert a cell after the ``parameters`` cell that assigns ``parameters`` (papermill-style).

    An unknown name raises ``ValueError`` listing the names the notebook's parameters cell sets.
    """
    import nbformat

    if not parameters:
        return
    try:
        index, known = parameter_names(nb)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}; it takes no -p parameters") from None
    unknown = [k for k in parameters if k not in known]
    if unknown:
        raise ValueError(
            f"{name} has no parameter {', '.join(unknown)}; its parameters are: {', '.join(known)}"
        )
    lines = ["# Parameters injected by `python -m course_utils run -p ...`"]
    lines += [f"{key} = {value!r}" for key, value in parameters.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": [INJECTED_TAG]})
    nb.cells.insert(index + 1, cell)


def _cell_error(exc: Exception) -> str:
    """The failing cell's source and the error, short enough to read in a terminal."""
    text = str(exc)
    lines = text.strip().splitlines()
    return "\n".join(lines[-60:])


def run_notebook(
    path: Path,
    mode: str,
    *,
    inplace: bool = False,
    timeout: int | None = 3600,
    kernel_name: str = "python3",
    parameters: dict[str, Any] | None = None,
    precision: str | None = None,
    env: dict[str, str] | None = None,
    prelude: str | None = None,
) -> Result:
    """Execute one notebook in a fresh kernel with ``COURSE_MODE=mode``.

    ``parameters`` override names of the notebook's ``parameters`` cell; ``precision`` sets
    ``COURSE_PRECISION`` for the kernel; ``env`` adds environment variables; ``prelude`` is the
    source of an extra cell run before the notebook's first one (a benchmark uses it to patch a
    loader). A run with parameters or a prelude is never written back (``inplace``): stored
    outputs are the defaults' run.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if precision is not None and precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    parameters = dict(parameters or {})
    if inplace and (parameters or prelude):
        raise ValueError("inplace: a run with -p parameters or a prelude is not stored in the notebook")
    nb = nbformat.read(path, as_version=4)
    inject_parameters(nb, parameters, name=path.stem)
    if prelude:
        nb.cells.insert(0, nbformat.v4.new_code_cell(prelude, metadata={"tags": ["injected-prelude"]}))
    monitor = MemoryMonitor()

    with tempfile.TemporaryDirectory(prefix="course-run-") as tmp:
        report_path = Path(tmp) / "metrics.json"
        runtime_path = Path(tmp) / "runtime.json"
        env = dict(
            os.environ,
            **(env or {}),
            COURSE_MODE=mode,
            **{report.REPORT_ENV: str(report_path), report.RUNTIME_ENV: str(runtime_path)},
        )
        if precision is not None:
            env[PRECISION_ENV] = precision
        requested = env.get(PRECISION_ENV, "").strip().lower() or "auto"
        if requested == "mixed_float16":
            # TensorFlow's oneDNN float16 kernels on CPUs are about 100x slower than its default
            # ones (a small CNN: 202 s against 10 s per epoch); they only matter on the CPU.
            env.setdefault(ONEDNN_ENV, "0")
        # The kernel must import this checkout's course_utils even without an install.
        root = str(paths.repo_root())
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)

        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name=kernel_name,
            resources={"metadata": {"path": str(path.parent)}},
            # ipykernel's start-up warnings (e.g. about local TCP) are noise in a report.
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )

        def on_start(**_: Any) -> None:
            provisioner = getattr(client.km, "provisioner", None)
            pid = getattr(provisioner, "pid", None) or getattr(
                getattr(provisioner, "process", None), "pid", None
            )
            if pid:
                monitor.start(pid)

        client.on_notebook_start = on_start
        error = None
        start = time.perf_counter()
        try:
            client.execute(env=env)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            error = _cell_error(exc)
        seconds = round(time.perf_counter() - start, 1)
        peak = monitor.stop()
        metrics = report.read(report_path)
        runtime_info = report.read(runtime_path)

    status = "ok" if error is None else "failed"
    if inplace and error is None:
        nbformat.write(nb, path)
    return Result(
        path.stem, mode, status, seconds, peak, metrics, error,
        parameters=parameters, precision=runtime_info.get("precision"),
        precision_requested=requested,
    )


def format_row(result: Result, width: int = 28) -> str:
    metrics = ", ".join(f"{k}={report.format_value(v)}" for k, v in result.metrics.items())
    if result.parameters:
        given = ", ".join(f"{k}={v!r}" for k, v in result.parameters.items())
        metrics = f"[{given}] {metrics}"
    peak = f"{result.peak_rss_mb:.0f}" if result.peak_rss_mb is not None else "?"
    precision = result.precision or "?"
    return (
        f"{result.name:<{width}} {result.mode:<6} {precision:<13} {result.status:<7} "
        f"{result.seconds:>8.1f} {peak:>9} {metrics}"
    )


def header(width: int = 28) -> str:
    return (
        f"{'notebook':<{width}} {'mode':<6} {'precision':<13} {'status':<7} "
        f"{'seconds':>8} {'peak MB':>9} metrics"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_utils run",
        description="Run course notebooks headlessly; report time, peak memory and metrics.",
    )
    parser.add_argument("notebooks", nargs="*", help="paths, stems (00_setup) or prefixes (02)")
    parser.add_argument("--mode", choices=MODES, default=None,
                        help="run mode (default: COURSE_MODE, else quick on CPU, full on GPU)")
    parser.add_argument("--precision", choices=PRECISIONS, default=None,
                        help="COURSE_PRECISION for the kernel (default: the environment's, else auto)")
    parser.add_argument("-p", "--parameter", dest="parameters", action="append", default=[],
                        metavar="NAME=VALUE",
                        help="override a name of the parameters cell; VALUE is a Python literal")
    parser.add_argument("--inplace", action="store_true",
                        help="write executed outputs back into each notebook that succeeds")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell")
    args = parser.parse_args(argv)

    try:
        notebooks = resolve(args.notebooks)
        parameters = dict(parse_parameter(p) for p in args.parameters)
        if parameters and args.inplace:
            raise ValueError("--inplace stores the default run only; drop -p or --inplace")
        if parameters:
            import nbformat

            for path in notebooks:  # fail on an unknown name before running anything
                inject_parameters(nbformat.read(path, as_version=4), parameters, name=path.stem)
    except ValueError as exc:
        parser.error(str(exc))
    if args.mode is None:
        from .runtime import mode as current_mode

        args.mode = current_mode()

    width = max(12, *(len(p.stem) for p in notebooks))
    print(header(width), flush=True)
    results = []
    for path in notebooks:
        result = run_notebook(
            path, args.mode, inplace=args.inplace, timeout=args.timeout,
            parameters=parameters, precision=args.precision,
        )
        results.append(result)
        print(format_row(result, width), flush=True)
        if result.error:
            print(f"\n--- {result.name} failed ---\n{result.error}\n", file=sys.stderr, flush=True)

    if args.json:
        Path(args.json).write_text(
            json.dumps({"notebooks": [r.to_json() for r in results]}, indent=2) + "\n",
            encoding="utf-8",
        )
    failed = [r.name for r in results if r.status != "ok"]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
