"""Encoding detection on samples that end anywhere: a GB18030 file is GB18030 whichever byte
the part charset-normalizer judges ends on, and text that is not Chinese is still refused."""

import pytest

from yishu.errors import UserInputError
from yishu.sources.encoding import JUDGED, detect

ROW = "2026-11-01,福田区,张伟,门诊,深圳市福田区福华三路100号\n"


@pytest.mark.parametrize("shift", range(4))
def test_gb18030_is_detected_wherever_the_judged_sample_ends(shift):
    data = ("x" * shift + ROW * (JUDGED // len(ROW.encode("gb18030")) + 50)).encode("gb18030")
    assert detect(data, "visits.csv") == "gb18030"


def test_a_sample_ending_inside_a_character_is_among_those_tested():
    # the shifts above put the cut both between and inside two-byte characters
    ends = {("x" * s + ROW * 10000).encode("gb18030")[JUDGED - 1:JUDGED + 1] for s in range(4)}
    assert any(e[0] >= 0x81 and e[1] >= 0x40 for e in ends)


def test_latin1_text_is_refused_with_the_file_named():
    data = ("Zürich,Müller,Straße 5\n" * 20000).encode("latin-1")
    with pytest.raises(UserInputError, match="visits.csv: the encoding is not UTF-8"):
        detect(data, "visits.csv")
