"""Quality score and grade by the six indicators of GB/T 36344-2018 (weights in quality.yaml)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

DIMENSIONS = ("conformity", "completeness", "accuracy", "consistency", "timeliness",
              "accessibility")
DIMENSION_ZH = {"conformity": "规范性", "completeness": "完整性", "accuracy": "准确性",
                "consistency": "一致性", "timeliness": "时效性", "accessibility": "可访问性"}


@dataclass(frozen=True)
class QualityModel:
    weights: dict[str, float]
    grades: dict[str, float]  # grade -> minimum score, best first
    freshness_days: int = 31

    def grade(self, score: float) -> str:
        for grade, minimum in sorted(self.grades.items(), key=lambda kv: -kv[1]):
            if score >= minimum:
                return grade
        return "E"


@dataclass
class QualityScore:
    dimensions: dict[str, float]
    overall: float
    grade: str
    details: dict[str, list] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"dimensions": self.dimensions, "overall": self.overall, "grade": self.grade}


def load_model(path: Path) -> QualityModel:
    """The quality model of a catalog (its quality.yaml)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    weights = {d: float(data["weights"].get(d, 0)) for d in DIMENSIONS}
    return QualityModel(weights, {g: float(v) for g, v in data["grades"].items()},
                        int(data.get("freshness_days", 31)))


def score(expectation_results: list[dict], model: QualityModel, *,
          consistency: float | None = None, timeliness: float | None = None,
          accessible: bool = True) -> QualityScore:
    """Score one batch. `expectation_results` are dicts with `dimension`, `element_count`
    and `unexpected_count`; an indicator with nothing measured scores 100, and a file that
    could not be read scores 0 everywhere."""
    rates: dict[str, list[float]] = {d: [] for d in DIMENSIONS}
    for r in expectation_results:
        total = r.get("element_count") or 0
        if total and r.get("dimension") in rates:
            rates[r["dimension"]].append(1 - (r.get("unexpected_count") or 0) / total)
    if consistency is not None:
        rates["consistency"].append(consistency)
    if timeliness is not None:
        rates["timeliness"].append(timeliness)
    rates["accessibility"].append(1.0 if accessible else 0.0)
    dims = {d: round(100 * sum(v) / len(v), 2) if v else 100.0 for d, v in rates.items()}
    if not accessible:  # nothing could be measured: no indicator earns a score
        dims = dict.fromkeys(DIMENSIONS, 0.0)
    total_weight = sum(model.weights.values()) or 1
    overall = round(sum(dims[d] * model.weights[d] for d in DIMENSIONS) / total_weight, 2)
    return QualityScore(dims, overall, model.grade(overall))
