"""What the person recognizers share: each has `find(text)` giving (start, end, score), which
the TextScanner calls directly; Presidio's `analyze` wraps the same findings."""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer, RecognizerResult

# A CJK character (the characters themselves, so that `re` and Arrow's RE2 read it alike)
HAN = "[\u3400-\u9fff]"


class PersonRecognizer(EntityRecognizer):
    # A regex every text find() finds something in matches: the TextScanner tests a whole
    # column with it in Arrow first (a column of tokens or codes then skips find() entirely).
    # A Chinese name holds a CJK character; a recognizer that finds more says so.
    MAY_FIND = HAN

    def __init__(self, supported_language: str = "zh"):
        super().__init__(supported_entities=["PERSON"], name=type(self).__name__,
                         supported_language=supported_language)

    def find(self, text: str) -> list[tuple[int, int, float]]:
        raise NotImplementedError

    def analyze(self, text, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        return [
            RecognizerResult(
                "PERSON", start, end, score,
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                },
            )
            for start, end, score in self.find(text)
        ]
