"""The machine line every benchmark prints: three load averages and the real core count."""

import os
import re

from yishu.bench.machine import load_average, machine


def test_load_average_is_three_figures_matching_the_kernel():
    figures = load_average().split()
    assert len(figures) == 3
    assert all(re.fullmatch(r"\d+\.\d\d", f) for f in figures)
    # the kernel's 15-minute average barely moves between two reads
    assert abs(float(figures[2]) - os.getloadavg()[2]) < 0.5


def test_machine_names_cores_memory_load_and_python():
    line = machine()
    assert f"{os.cpu_count()} cores" in line
    assert re.search(r"\d+\.\d GiB RAM", line)
    assert re.search(r"load average \d+\.\d\d \d+\.\d\d \d+\.\d\d", line)
    assert "Python 3." in line
