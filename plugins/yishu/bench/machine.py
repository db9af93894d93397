"""What every benchmark prints beside its figures: the machine and how busy it is (on a shared
machine wall time means little without the load average)."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages, e.g. `0.12 0.30 0.41`."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> str:
    """CPU model, cores, RAM, load average and Python version on one line."""
    import psutil

    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.1f} GiB RAM;"
            f" load average {load_average()}; Python {platform.python_version()}")
