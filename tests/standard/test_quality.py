from yishu.settings import REPO_ROOT
from yishu.standard.quality import QualityModel, load_model, score


def test_score_on_a_hand_computed_example():
    model = QualityModel(weights={"conformity": 0.25, "completeness": 0.25, "accuracy": 0.2,
                                  "consistency": 0.1, "timeliness": 0.1, "accessibility": 0.1},
                         grades={"A": 95, "B": 85, "C": 75, "D": 60, "E": 0})
    results = [
        {"dimension": "completeness", "element_count": 100, "unexpected_count": 10},  # 90
        {"dimension": "completeness", "element_count": 100, "unexpected_count": 0},  # 100
        {"dimension": "conformity", "element_count": 200, "unexpected_count": 40},  # 80
        {"dimension": "accuracy", "element_count": 100, "unexpected_count": 30},  # 70
    ]
    q = score(results, model, consistency=0.5, timeliness=1.0)
    assert q.dimensions == {"conformity": 80.0, "completeness": 95.0, "accuracy": 70.0,
                            "consistency": 50.0, "timeliness": 100.0, "accessibility": 100.0}
    # 0.25*80 + 0.25*95 + 0.2*70 + 0.1*50 + 0.1*100 + 0.1*100 = 82.75
    assert q.overall == 82.75
    assert q.grade == "C"


def test_unreadable_file_scores_zero_accessibility_and_grades():
    model = load_model(REPO_ROOT / "catalog" / "quality.yaml")
    q = score([], model, accessible=False)
    assert q.dimensions["accessibility"] == 0.0
    assert q.overall == 0.0 and q.grade == "E"
    assert model.grade(96) == "A" and model.grade(59.9) == "E"


def test_a_score_exactly_on_a_threshold_takes_that_grade():
    """Each shipped threshold is a minimum: the score on it gets the grade, a hair below
    does not (a threshold moved by one point fails here)."""
    model = load_model(REPO_ROOT / "catalog" / "quality.yaml")
    assert model.grades == {"A": 95, "B": 85, "C": 75, "D": 60, "E": 0}
    for grade, better in (("A", None), ("B", "A"), ("C", "B"), ("D", "C")):
        minimum = model.grades[grade]
        assert model.grade(minimum) == grade
        assert model.grade(minimum - 0.01) != grade
        assert model.grade(minimum + 1) == (grade if better is None or
                                            model.grades[better] > minimum + 1 else better)
    assert model.grade(0) == "E"
