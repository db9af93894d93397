"""Fixtures the de-identification tests share: Presidio's analyzer with Yishu's recognizers
and the TextScanner, each built once per test module (building them is the slow part)."""

import pytest

from yishu.deid.recognizers import build_analyzer
from yishu.deid.text_scanner import TextScanner


@pytest.fixture(scope="module")
def analyzer():
    return build_analyzer()


@pytest.fixture(scope="module")
def scanner():
    return TextScanner()
