"""Measure how long every code cell takes in ``test`` mode, for the lecturer's page.

Runs each notebook top to bottom in a fresh kernel with ``COURSE_MODE=test`` (nothing is written
back to the notebook) and stores, per notebook, the seconds of every code cell by cell id, the
machine's CPU count and the load average before and after, in ``site/live_times.json``. The
lecturer's page (``site/lecturers.py``) reads that file. A cell added later has no time until its
notebook is measured again (``tests/test_site_build.py`` names it); re-run this after a notebook
changes:

    .venv/bin/python site/measure_live_times.py [NN ...]
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "site" / "live_times.json"


sys.path.insert(0, str(Path(__file__).resolve().parent))
from lecturers import _seconds as _cell_seconds  # noqa: E402  (site/ is not a package)


def _seconds(cell) -> float | None:
    seconds = _cell_seconds(cell)
    return None if seconds is None else round(seconds, 2)


def measure(path: Path) -> dict:
    nb = nbformat.read(path, as_version=4)
    env = dict(os.environ, COURSE_MODE="test")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    load_before = os.getloadavg()
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=True,
                            resources={"metadata": {"path": str(path.parent)}},
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])
    client.execute(env=env)
    total = round(time.perf_counter() - start, 1)
    cells = {c.id: _seconds(c) for c in nb.cells if c.cell_type == "code"}  # by cell id
    return {"total_seconds": total, "cell_seconds": cells,
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()]}


def main(argv: list[str]) -> int:
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if argv:
        notebooks = [p for p in notebooks if p.name[:2] in argv]
    data = json.loads(OUT.read_text()) if OUT.exists() else {"notebooks": {}}
    data["machine"] = {"cpus": os.cpu_count(), "mode": "test",
                       "measured": dt.date.today().isoformat()}
    for path in notebooks:
        print(f"{path.name} ...", flush=True)
        data["notebooks"][path.stem] = measure(path)
        print(f"  {data['notebooks'][path.stem]['total_seconds']} s", flush=True)
        OUT.write_text(json.dumps(data, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
