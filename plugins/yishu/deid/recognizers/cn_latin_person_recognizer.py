"""PERSON: Western names written in Latin letters inside Chinese text (BenBell, Tom Conlin,
StephenBird（中文名：卓曦文）). The Chinese name model reads Latin letters one by one and misses
them; a Latin word alone says nothing (game, company and film titles are Latin words too), so a
name here is a common English given name followed by a capitalised family name.
"""

from __future__ import annotations

import re

from yishu.deid.recognizers.person_base import PersonRecognizer

# Common English given names (US census and UK ONS top lists) and their short forms
GIVEN_NAMES = """
James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel Matthew
Anthony Mark Donald Steven Stephen Paul Andrew Joshua Kenneth Kevin Brian George Timothy Ronald
Edward Jason Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Larry Justin Scott Brandon Benjamin
Samuel Gregory Alexander Frank Patrick Raymond Jack Dennis Jerry Tyler Aaron Adam Nathan Henry
Douglas Zachary Peter Kyle Walter Ethan Jeremy Harold Keith Christian Roger Noah Gerald Carl
Terry Sean Austin Arthur Lawrence Jesse Dylan Bryan Jordan Billy Bruce Albert Gabriel Logan
Alan Wayne Roy Ralph Randy Eugene Vincent Russell Louis Bobby Philip Johnny Martin Oliver Harry
Lewis Luke Kurt Hugh Ian Neil Simon Graham Colin Stuart Howard Leonard Victor Francis Oscar
Tom Tim Bill Bob Ben Dan Dave Jim Jimmy Mike Nick Tony Steve Sam Alex Max Ted Ken Ron Jeff Greg
Matt Andy Pete Phil Fred Joe Jon Josh Jake Chris Rob Rick Jamie Charlie Danny Eddie Frankie
Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Nancy Lisa Betty
Margaret Sandra Ashley Kimberly Emily Donna Michelle Dorothy Carol Amanda Melissa Deborah
Stephanie Rebecca Sharon Laura Cynthia Kathleen Amy Shirley Angela Helen Anna Brenda Pamela
Nicole Emma Samantha Katherine Christine Rachel Catherine Carolyn Janet Ruth Maria Heather
Diane Virginia Julie Joyce Victoria Olivia Kelly Christina Lauren Joan Evelyn Judith Megan
Cheryl Andrea Hannah Martha Jacqueline Frances Gloria Teresa Kathryn Sara Janice Jean Alice
Julia Judy Denise Marilyn Beverly Danielle Theresa Sophia Marie Diana Natalie Isabella
Charlotte Alexis Kate Jane Jenny Lily Lucy Sophie Anne Ann Jessie Susie Nancy Wendy Tina Lena
""".split()
_NAME = re.compile(
    r"(?<![A-Za-z])(?:" + "|".join(sorted(set(GIVEN_NAMES), key=len, reverse=True))
    + r")[ ·.]?[A-Z][a-z]{1,15}(?![A-Za-z])"
)

_CAPITALISED = re.compile(r"[A-Z][a-z]")  # the cheap test first: most Chinese text has none


class CnLatinPersonRecognizer(PersonRecognizer):
    SCORE = 0.7

    def load(self) -> None:
        """Nothing to load: one regex."""

    def find(self, text: str) -> list[tuple[int, int, float]]:
        """(start, end, score) of the names; the scanner calls this directly."""
        if not _CAPITALISED.search(text):
            return []
        return [(*m.span(), self.SCORE) for m in _NAME.finditer(text)]

