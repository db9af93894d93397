"""PERSON: foreign names written in Chinese characters right after a role that only a person
holds (中场图兰, 画家透纳, 门将阿邦丹齐里, 二等兵季米特里·彼得连科). The name model reads many of
them as places or clubs (图兰, 透纳 are words to it), but a run of transliteration characters
(transliteration.CHARS: syllables, not words) after such a role is a name: in news the role is
how a foreign person is introduced. Roles an organisation or a thing also takes (指挥 is a verb,
部长 ends 一部长达...) are left out.
"""

from __future__ import annotations

import re

from yishu.deid.recognizers.person_base import PersonRecognizer
from yishu.deid.recognizers.transliteration import CHARS

# Roles written right before a foreign person's name: sport (positions, coaches), the arts,
# politics and business
ROLES = tuple(
    "中场 前锋 后卫 门将 边锋 边卫 中卫 后腰 前腰 射手 国脚 球员 球星 新援 外援 名将 老将 小将 "
    "队友 队长 主教练 主帅 教练 选手 车手 拳王 "
    "画家 艺术家 作家 诗人 雕塑家 摄影师 建筑师 收藏家 漫画家 小说家 音乐家 钢琴家 作曲家 歌手 "
    "演员 影星 明星 男星 女星 导演 编剧 制作人 设计师 作者 "
    "总统 首相 总理 大使 将军 上尉 中尉 上校 少校 二等兵 博士 教授 总裁 总监 经理 主席 董事长 "
    "创始人 发言人 分析师 记者 编辑".split())
_RUN = f"[{''.join(sorted(CHARS))}]"
# a name of two or more syllables, its parts joined by a middle dot (季米特里·彼得连科), and no
# transliteration character right after it (it would be the same word)
_AFTER_ROLE = re.compile("(?:" + "|".join(sorted(ROLES, key=len, reverse=True)) + ")"
                         + f"({_RUN}{{2,8}}(?:[·•・]{_RUN}{{1,8}})*)(?!{_RUN})")


class CnForeignPersonRecognizer(PersonRecognizer):
    SCORE = 0.7

    def load(self) -> None:
        """Nothing to load: one regex."""

    def find(self, text: str) -> list[tuple[int, int, float]]:
        """(start, end, score) of the names; the scanner calls this directly."""
        return [(*m.span(1), self.SCORE) for m in _AFTER_ROLE.finditer(text)]
