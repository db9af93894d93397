"""Deterministic sample sources for the demo, the tests and the benchmark."""

from yishu.samples.generator import (
    COLUMNS,
    DIRTY_SHARES,
    SOURCES,
    dirty_rows,
    generate,
    hospitals,
    iter_generate,
    sample_rows,
    write_sample,
)
from yishu.samples.health import NO_PII_NOTE_PREFIXES, NOTE_TEMPLATES
from yishu.samples.hospitals import DISTRICTS

__all__ = ["COLUMNS", "DIRTY_SHARES", "DISTRICTS", "NO_PII_NOTE_PREFIXES", "NOTE_TEMPLATES",
           "SOURCES", "dirty_rows", "generate", "hospitals", "iter_generate", "sample_rows",
           "write_sample"]
