"""Where the metrics of several worker processes meet: PROMETHEUS_MULTIPROC_DIR.

Kept apart from the metrics themselves: prometheus-client picks its storage when it is first
imported, so `serve` sets the variable here before anything imports it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path


def multiprocess_dir() -> str | None:
    """The directory of the per-process files, when several processes share the metrics."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def prepare_multiprocess_dir(enabled: bool) -> str | None:
    """Before worker processes start: point PROMETHEUS_MULTIPROC_DIR at an empty directory
    (a fresh temporary one, removed at exit, unless the variable names one already; stale
    files in it are removed). Returns the directory, or None when metrics are off."""
    if not enabled:
        return None
    given = multiprocess_dir()
    if given is not None:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink(missing_ok=True)
    else:
        directory = Path(tempfile.mkdtemp(prefix="mindkeeper-metrics-"))
        atexit.register(shutil.rmtree, directory, True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    return str(directory)
