"""PERSON: names written in Latin letters inside Chinese text (BenBell, Tom Conlin, filip,
玩家ID Sky). The Chinese name model reads Latin letters one by one and misses them; a Latin word
alone says nothing (game, company and film titles are Latin words too), so a name here is either
a common English given name followed by a capitalised family name, or any Latin word in a
person's place: right after a role (选手Sky, 负责人julia, 设计师Anderson) or right before a
verb only people take (Infi说, filip出生, 由Robert提问). Verbs that organisations take as well
(表示, 宣布, 称: EA表示, Konami宣布) are not enough.
"""

from __future__ import annotations

import re

from yishu.deid.recognizers.person_base import HAN, PersonRecognizer

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
# A given name on its own between Chinese words (Linda一直是, 爱尔兰人Sean，) is a person too: in
# Chinese text a lone English word that is a given name is a nickname or a player, rarely a
# brand. Not inside an English phrase (a Latin word a space away), not a lower-case given name
# that is also an everyday English word (bill, jack, mark), nor Max (a product: Pro Max)
_ORDINARY = frozenset("bill jack mark frank rob pat will sue ray don ken amy ann".split())
_GIVEN = frozenset(g.lower() for g in GIVEN_NAMES) - {"max"}
_LONE_WORD = re.compile(r"(?<![A-Za-z0-9_.'’-])(?<![A-Za-z0-9] )([A-Za-z][a-z]+)"
                        r"(?![A-Za-z0-9_'’-])(?! ?[A-Za-z0-9])")

# Roles written right before a person's name (also the name model's test for a Latin word)
ROLE_BEFORE = tuple(
    "选手 玩家 主持人 队员 导演 编剧 作者 画家 设计师 制作人 总监 主席 记者 教练 球员 演员 歌手 "
    "作家 负责人 经理 总裁 董事 主管 总编 主编 队长 领队 创始人 主角 指挥官 分析师 读者 网友 "
    "上尉 博士 教授 发言人 老板 高手 新星 艺术家 建筑师 漫画家 主任 部长 院长 律师 医生 员工 "
    "父亲 母亲 妻子 丈夫 儿子 女儿 哥哥 姐姐 弟弟 妹妹 朋友 男友 女友".split())
# Verbs and words that follow a person, not an organisation
PERSON_AFTER = tuple(
    "说 认为 坦言 回忆 出生 原名 本名 中文名 加盟 先生 女士 小姐 本人 透露 提问 执导 主演 扮演"
    .split())
# Latin words that follow a role or precede those verbs but are titles themselves (崔新魁CEO称)
NOT_NAMES = frozenset("CEO CFO CTO COO VP MVP ID".split())
_WORD = r"[A-Za-z][A-Za-z0-9_.'’-]*[A-Za-z0-9]"
_AFTER_ROLE = re.compile("(?:" + "|".join(sorted(ROLE_BEFORE, key=len, reverse=True))
                         + r")[：: ]?(" + _WORD + r")(?![A-Za-z0-9_'’-])")
# ... or its age, its other names after a comma (Alone，原名刘青), a pseudonym's note (jim（化名）)
_PERSON_AFTER_RE = "|".join(PERSON_AFTER) + (
    r"|眼里|口中|看来|今年[0-9]{1,3}岁|[，,](?:原名|本名|中文名|真名)|\s*[（(]化名[）)]")
_BEFORE_VERB = re.compile(r"(?<![A-Za-z0-9_.'’-])(" + _WORD + r") ?(?=" + _PERSON_AFTER_RE + ")")

_LATIN = re.compile(r"[A-Za-z]")  # the cheap test first: most Chinese text has none
_CAPITALISED = re.compile(r"[A-Z][a-z]")


def _lone_given(word: str) -> bool:
    low = word.lower()
    return low in _GIVEN and (word[0].isupper() or low not in _ORDINARY)


class CnLatinPersonRecognizer(PersonRecognizer):
    SCORE = 0.7
    # after a role or before a verb: a CJK word; else a given name (_NAME, _lone_given)
    MAY_FIND = HAN + "|(?i:" + "|".join(sorted(set(GIVEN_NAMES))) + ")"

    def load(self) -> None:
        """Nothing to load: one regex."""

    def find(self, text: str) -> list[tuple[int, int, float]]:
        """(start, end, score) of the names; the scanner calls this directly."""
        if not _LATIN.search(text):
            return []
        found = [m.span() for m in _NAME.finditer(text)] if _CAPITALISED.search(text) else []
        found += [m.span(1) for m in _LONE_WORD.finditer(text) if _lone_given(m.group(1))]
        found += [m.span(1) for rule in (_AFTER_ROLE, _BEFORE_VERB) for m in rule.finditer(text)
                  if m.group(1) not in NOT_NAMES]
        return [(start, end, self.SCORE) for start, end in sorted(set(found))]

