"""`catalog/quality.yaml`: the weights of the six GB/T 36344 indicators, the grade thresholds
and `freshness_days`. Checked with the catalog, so that a bad file fails `yishu check`, not
the validate task of every collect."""

from __future__ import annotations

from pathlib import Path

from yishu.definitions.models import GRADES

# GB/T 36344-2018's six indicators (yishu.standard.quality scores them; a test keeps the two
# lists equal)
DIMENSIONS = ("conformity", "completeness", "accuracy", "consistency", "timeliness",
              "accessibility")


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_quality(path: Path, data: dict, problems: list[str]) -> None:
    if not data:
        return  # missing, empty or unreadable: already reported by the reader (or empty)
    for key in sorted(set(data) - {"weights", "grades", "freshness_days"}):
        problems.append(f"{path}: {key}: unknown field: use weights, grades, freshness_days")
    weights, grades = data.get("weights"), data.get("grades")
    if not isinstance(weights, dict):
        problems.append(f"{path}: weights: missing or not a mapping: give a number for each "
                        f"of {list(DIMENSIONS)}")
    else:
        for name, value in weights.items():
            if name not in DIMENSIONS:
                problems.append(f"{path}: weights.{name}: not an indicator of GB/T 36344: use "
                                f"one of {list(DIMENSIONS)}")
            elif not _number(value) or value < 0:
                problems.append(f"{path}: weights.{name}: '{value}' is not a number ≥ 0: "
                                "write e.g. 0.25")
        if all(_number(v) for v in weights.values()) and not sum(weights.values()) > 0:
            problems.append(f"{path}: weights: they add up to 0: give some indicator weight")
    if not isinstance(grades, dict) or not grades:
        problems.append(f"{path}: grades: missing or not a mapping: give the minimum score of "
                        f"each grade of {list(GRADES)}, e.g. A: 95 ... E: 0")
    else:
        for name, value in grades.items():
            if name not in GRADES:
                problems.append(f"{path}: grades.{name}: unknown grade: use {list(GRADES)}")
            elif not _number(value) or not 0 <= value <= 100:
                problems.append(f"{path}: grades.{name}: '{value}' is not a score from 0 to 100")
        if 0 not in grades.values():
            problems.append(f"{path}: grades: no grade starts at 0: every score needs a grade "
                            "(e.g. E: 0)")
    days = data.get("freshness_days", 31)
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        problems.append(f"{path}: freshness_days: '{days}' is not a whole number ≥ 1")
