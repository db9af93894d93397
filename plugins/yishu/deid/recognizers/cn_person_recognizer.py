"""PERSON: Chinese person names in free text.

A name is a surname from the list below followed by one or two given-name characters, and it is
only taken next to a context word (患者王秀英, 联系人：李明先生, 由张伟医生接诊, 王秀英，女，).
Without context, surname characters are far too common (高, 于, 和, 时...) to be a signal.
jieba's dictionary rejects ordinary words that start with a surname (高血压, 王府井, 张家界, 全身),
and jieba's part-of-speech tagger (`nr`) is a slow fallback, used only when a strong context word
is present but the regex found nothing, and then only on the runs of text where a surname starts
near a context word, each run tagged once per process (`_block_names`).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from yishu.deid.recognizers.person_base import PersonRecognizer

# Common single-character surnames, most frequent first (the rank breaks ties between readings)
SINGLE_SURNAMES = (
    "王李张刘陈杨黄吴赵周徐孙马朱胡林郭何高罗郑梁谢宋唐许邓冯韩曹曾彭萧蔡潘田董袁于余"
    "叶蒋杜苏魏程吕丁沈任姚卢傅钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段"
    "雷黎史龙陶贺顾毛郝龚邵万钱严赖覃洪武莫孔汤向常温康施文牛樊葛邢安齐易乔伍庞颜倪庄"
    "聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲"
    "翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚"
    "娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑"
    "郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼"
    "蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初"
    "门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕"
    "危玉银亢嵇公哈湛宾戎勾茅利呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
    "肖闫付代占贡奎谯"  # simplified or variant forms common today (肖 for 萧, 闫 for 阎)
)
COMPOUND_SURNAMES = (
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 西门 南宫 独孤 "
    "轩辕 申屠 钟离 闻人 赫连 澹台 公冶 濮阳 淳于 单于 呼延 万俟 百里 东郭 拓跋 完颜 太史 "
    "仲孙 叔孙 左丘 梁丘 乐正 漆雕 公羊 谷梁 段干 颛孙 巫马 公西 壤驷 宰父 东门 子车"
).split()
_RANK = {s: i for i, s in enumerate(SINGLE_SURNAMES)} | {s: 100 for s in COMPOUND_SURNAMES}
# the first character of every surname: a name starts with one
_SURNAME_STARTS = frozenset(s[0] for s in _RANK)

# Words that announce a name right after them (联系人：李明, 患者王秀英). After a strong one
# almost anything is a name; after a weak one (患者高血压) ordinary words are rejected.
STRONG_PREFIX = (
    "紧急联系人 法定代表人 被保险人 就诊人 联系人 联络人 监护人 经办人 代表人 负责人 申请人 "
    "委托人 受托人 代理人 投保人 受益人 收件人 寄件人 当事人 报告人 审核人 记录人 陪同人 "
    "送检人 开单人 法人 姓名 名字 户主 签名 签字"
).split()
WEAK_PREFIX = (
    "主治医师 主治医生 责任护士 就诊者 患者 病人 病患 患儿 伤者 死者 家属 医生 医师 护士 "
    "主任 教授 接诊 配偶 丈夫 妻子 儿子 女儿 母亲 父亲 客户 用户 员工 学生 原告 被告 证人 "
    "记者 通讯员 实习生"
).split()
# Job titles and roles written before a name in news and case records (总经理傅军民介绍,
# 市民游康发现). Organisations and other titles follow them just as often (总裁高级研修班,
# 演员公会), so a name after one must also be closed: by punctuation, the end of the text or a
# verb of saying (TITLE_NAME_END)
TITLE_PREFIX = (
    "经理 总经理 董事长 总裁 总监 主管 主编 总编 编辑 主持人 分析师 研究员 工程师 设计师 发言人 "
    "会长 秘书长 理事长 局长 处长 部长 厅长 市长 县长 区长 镇长 乡长 村长 书记 主席 行长 校长 "
    "所长 站长 队长 教练 导演 编剧 演员 歌手 作家 画家 诗人 艺术家 收藏家 签证官 创始人 "
    "合伙人 法官 检察官 民警 经纪人 老板 店主 司机 市民 居民 村民 网友 读者 彩民 嘉宾"
).split()
TITLE_NAME_END = re.compile(
    r"$|[，,。.；;：:、！!？?（(“”\s]|(?:表示|介绍|透露|认为|指出|说|称|坦言|强调|告诉|回忆|解释"
    r"|证实|发现|带队|执导|主演|担任|接受|在|于|的|等|和|与|也|则|曾|已|将|还|否认|承认|呼吁|建议"
    r"|回应|直言|谈到|提到|昨天|今天|昨日|今日|日前|近日)")
# Words that close a name (李明先生, 王秀英，女，; weak: 张伟医生, 刘洋陪同)
STRONG_SUFFIX = "先生 女士 小姐 同志 （化名）".split()  # 钱海洋（化名）: a pseudonym
WEAK_SUFFIX = (
    "医生 医师 大夫 护士 护师 主任 教授 老师 院长 科长 经理 律师 警官 师傅 陪同 签字 签名 "
    "本人 之子 之女 患者"
).split()
PREFIX_WORDS = STRONG_PREFIX + WEAK_PREFIX + TITLE_PREFIX
SUFFIX_WORDS = STRONG_SUFFIX + WEAK_SUFFIX
# Characters that do not occur in given names but often follow a context word: a candidate whose
# given name would contain one of them is cut before it (or dropped)
NON_NAME_CHARS = set(
    "的了是在与及或等因为被把从向对将已曾也都就还又再才很最更均各每其此该某这那你我他她它们个"
    "位名岁年月日时分秒号次周今昨前后上下内外中性者医护院科室床诊治疗药查检验术痛热咳喘吐泻血"
    "压糖病症状感觉述诉称说示见无未否去到入出住于自经行做进之而则且但若如属予给所以由及系即"
    "男女某人来籍址码证龄别话吗呢吧啊呀么"
)
# Surnames that are also words often written just before a name (由张伟医生接诊, 和王芳)
FUNCTION_SURNAMES = set("由和向于")
# Function characters that naturally follow a name (冯志强于今日): 强于 is a word, yet the 强
# belongs to the name
FUNCTION_CHARS = set("于在的了和与及等是因被已将曾也都就还又才")
# Ordinary words that start with a surname but that jieba rates rare or tags `nr` (its `nr`
# list mixes people with places and words: 王府井, 苏醒, 冷汗, 和尚)
DENY_WORDS = set(
    "高热 高烧 高血压 高血糖 高血脂 黄疸 白细胞 王府井 张家界 石家庄 连云港 高新区 康复 苏醒 "
    "高龄 冷汗 毛发 屈膝 齐全 温泉 阳光 和尚 谢谢 满怀 原谅 平添 安危 白白 盛世 元老 富翁 冷清 "
    "阴森 边远 钱财 高薪 权衡 凌厉 刁钻 元宝 柏树 叶子 孔雀 白昼".split()
)
# Clinical words that start with a surname character and are followed by more text (患者平素体健,
# 患者高龄): after a weak context, a candidate starting with one of them is no name
DENY_PREFIXES = set(
    "平素 平时 平日 平卧 常年 常感 常诉 时有 时常 高龄 高度 明确 明显 全身 安静 文化 曾经 向来 "
    "于是 于今 成功 应用 应予 单纯 经常 方可 都有 由于 和蔼 关节 强烈 管床 门诊 查体 解除".split()
)
# After a weak context, a dictionary word at least this frequent (jieba counts) is a word, not a
# name (全身, 常规, 明显), unless jieba tags it `nr`; `nr` words are words from 10x that
# frequency (安静, 文明). Costs ~1% of names (李强, 申明) after weak contexts. After a strong
# context only very common words are rejected (投保人信息, 联系人情况).
WORD_FREQ_LIMIT = 100
NR_FREQ_LIMIT = STRONG_FREQ_LIMIT = 1000

_PREFIX_RE = re.compile(
    "(" + "|".join(sorted(PREFIX_WORDS, key=len, reverse=True)) + ")(?:[:：\\s]|（[^）]{0,6}）)*"
)
# Also after a name: its gender (，女，, as strong as 先生), its age (，45岁) or its ID
# (（身份证号：...）)
# (`[，,、 （(]?[男女](?=[，,、 性0-9]|$)` and `[，,、 （(]?(?:[0-9]{1,3}岁|身份证)`, spelt out in
# the same order without the optional first character: ~20% faster in `re`, same matches)
_SUFFIX_RE = re.compile("(" + "|".join(SUFFIX_WORDS + [
    "[，,、 （(][男女](?=[，,、 性0-9]|$)", "[男女](?=[，,、 性0-9]|$)",
    "[，,、 （(][0-9]{1,3}岁", "[，,、 （(]身份证", "[0-9]{1,3}岁", "身份证",
]) + ")")
_STRONG = set(STRONG_PREFIX + STRONG_SUFFIX)
_TITLE_PREFIXES = frozenset(TITLE_PREFIX)
_STRONG_SUFFIXES = tuple(STRONG_SUFFIX)
_SUFFIXES = tuple(SUFFIX_WORDS)
_STRONG_RE = re.compile("|".join(_STRONG))
# any context word at all: the cheap prefilter before the name logic
_CONTEXT_RE = re.compile("|".join(sorted(set(PREFIX_WORDS + SUFFIX_WORDS), key=len, reverse=True))
                         + "|[，,、 （(：:][男女][，,、 性0-9]|[0-9]岁|身份证")

# After a byline (（记者马力）, 记者由曦发自) or a title (行长苏宁否认), a closed name may be a word
_BYLINE = frozenset("记者 通讯员 实习生".split())
_BYLINE_END = re.compile(r"$|[）)\s]|报道|发自|摄")


def _closed_word_name(text: str, pos: int, word: str) -> int | None:
    if word not in _BYLINE and (word not in TITLE_PREFIX or text[pos] in FUNCTION_SURNAMES):
        return None  # 队长和指挥: 和 after a title is a word
    end = _name_after(text, pos, True)
    closing = _BYLINE_END if word in _BYLINE else TITLE_NAME_END
    return end if end is not None and closing.match(text, end) else None


# where a jieba name word can start: a compound surname, or a single surname followed by a
# possible given-name character
_NAME_START = re.compile(
    "(?:" + "|".join(COMPOUND_SURNAMES) + f"|[{SINGLE_SURNAMES}](?=[\u4e00-\u9fff])"
    + "(?![" + "".join(sorted(NON_NAME_CHARS)) + "]))"
)


@lru_cache(maxsize=1)
def _dictionary() -> tuple[dict[str, int], dict[str, str]]:
    """jieba's word frequencies and part-of-speech tags (loaded once, ~1 s)."""
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba.dt.FREQ, jieba.posseg.dt.word_tag_tab


@lru_cache(maxsize=1)
def _jieba_block_re() -> re.Pattern:
    """The blocks jieba's part-of-speech tagger cuts one by one (CJK, letters, digits, +#&._)."""
    import jieba.posseg

    return jieba.posseg.re_han_internal


@lru_cache(maxsize=65536)
def _block_names(block: str) -> tuple[tuple[int, int], ...]:
    """(start, end) in block of the words jieba tags `nr` that look like a name: 2-4
    characters, a known surname, given-name characters, no title (王先生), not a word."""
    import jieba.posseg

    _dictionary()  # initialises jieba quietly
    names, pos = [], 0
    for word, flag in jieba.posseg.dt.lcut(block):
        start, pos = pos, pos + len(word)
        if flag != "nr" or not 2 <= len(word) <= 4:
            continue
        ls = _surname_len(word, 0)
        if not ls or not _given_ok(word[ls:]) or word.endswith(_SUFFIXES):  # 王先生
            continue
        if not _is_word(word):
            names.append((start, pos))
    return tuple(names)


@lru_cache(maxsize=65536)
def _is_word(text: str, strong: bool = False) -> bool:
    """An ordinary word, not a name."""
    if text in DENY_WORDS:
        return True
    freq, tags = _dictionary()
    count = freq.get(text) or 0
    if (tags.get(text) or "").startswith("nr"):  # nr, nrfg, nrt: jieba thinks it is a name
        return count >= NR_FREQ_LIMIT
    return count >= (STRONG_FREQ_LIMIT if strong else WORD_FREQ_LIMIT)


def _common_noun(word: str) -> bool:
    """A frequent two-character `n` word (公司, 董事): no given name, unlike 建国 ns, 文明 nr."""
    if len(word) != 2:
        return False
    freq, tags = _dictionary()
    return tags.get(word) == "n" and (freq.get(word) or 0) >= STRONG_FREQ_LIMIT


def _surname_len(text: str, pos: int) -> int:
    if text[pos : pos + 2] in _RANK:
        return 2
    return 1 if text[pos : pos + 1] in _RANK else 0


# CJK characters that may occur in a given name
_GIVEN_CHARS = frozenset(map(chr, range(0x4E00, 0xA000))) - NON_NAME_CHARS


def given_name_chars() -> frozenset[str]:
    """The CJK characters that may occur in a given name (the name model's rules use them)."""
    return _GIVEN_CHARS


def _given_ok(chars: str) -> bool:
    return _GIVEN_CHARS.issuperset(chars)


def _name_after(text: str, pos: int, strong: bool) -> int | None:
    """End of the name starting at pos (after a prefix context word), or None."""
    ls = _surname_len(text, pos)
    if not ls or (not strong and text[pos] in FUNCTION_SURNAMES):  # 分析师向记者, 队长和指挥
        return None
    n = 0
    while (n < 2 and pos + ls + n < len(text) and text[pos + ls + n] in _GIVEN_CHARS
           and not text.startswith(_SUFFIXES, pos + ls + n)):  # 王先生: a title, no given name
        n += 1
    # 刘洋陪同, 李明先生: the second given character starts a word with what follows
    after = pos + ls + 2
    if n == 2 and after < len(text) and text[after] not in FUNCTION_CHARS and _is_word(
        text[after - 1 : after + 1]
    ):
        n = 1
    if n == 0:
        return None
    # 联系人：高峰先生: a name closed by 先生/女士 after a context word is a name, even if a word
    name = text[pos : pos + ls + n]
    if text.startswith(_STRONG_SUFFIXES, pos + ls + n) and name not in DENY_WORDS:
        return pos + ls + n
    if _is_word(text[pos : pos + ls + n], strong):
        return None
    if not strong and text[pos : pos + 2] in DENY_PREFIXES:
        return None
    return pos + ls + n


def _splits_words(text: str, start: int, end: int) -> bool:
    """Whether a name read at text[start:end] would cut an ordinary word on its left (公司 in
    公司副总) or start with one (公司 in 公司总): real text puts titles after organisations
    (公司总经理, 常务副主任) far more often than after a name."""
    return ((start > 0 and _is_word(text[start - 1 : start + 1]))
            or (end - start >= 3 and _is_word(text[start : start + 2])))


def _surname_alone(text: str, end: int) -> bool:
    """A single surname right before a title (黄先生, 李女士): in a resume or a complaint, the
    surname, the title and what is said about them point at one person. Not a character that
    ends a word with the one before it (各位女士, 老先生)."""
    ch = text[end - 1 : end]
    if end < 1 or ch not in _RANK or ch in _NOT_ALONE:
        return False
    return end < 2 or not _is_word(text[end - 2 : end])


_TITLE_HEADS = set("副总")  # they start a title before one of _TITLES (副主任, 总经理)
# titles after which a lone surname is a person (黄先生, 张医生, 黄教授)
_TITLES = set(STRONG_SUFFIX) | set(
    "医生 医师 大夫 护士 护师 主任 教授 老师 院长 科长 经理 律师 警官 师傅".split())
# surname characters that, before a title, are mostly something else (各位女士, 总经理, 由医生)
_NOT_ALONE = set("老小大总副正位名各该某其此每诸全和由于向与及")


def _name_before(text: str, end: int, strong: bool) -> int | None:
    """Start of the name ending at end (before a suffix context word), or None.
    由张伟医生 reads both 由张伟 and 张伟: the longest reading wins unless its surname is a
    function word (由, 和...)."""
    fallback = None
    for length in (4, 3, 2):
        start = end - length
        if start < 0:
            continue
        ls = _surname_len(text, start)
        if ls == 2 and length == 2:
            ls = 1  # 欧阳 alone is no name; read 欧 + 阳
        if not ls or not 1 <= length - ls <= 2 or not _given_ok(text[start + ls : end]):
            continue
        if text[start : start + ls] not in _RANK or text.startswith(_SUFFIXES, start + 1):
            continue  # 肖春华先生，48岁: 华先生 is no name
        if ls == 1 and text[start] in FUNCTION_SURNAMES and fallback is None:
            fallback = start  # try the shorter reading first (由张伟 -> 张伟)
            continue
        if _splits_words(text, start, end) and (not strong or _surname_alone(text, end)):
            continue  # 司副总 cuts 公司; before 先生 only if a lone surname is left (教师陈女士)
        if _common_noun(text[start + ls : end]):
            continue  # 任公司副总经理, 区董事总经理: 公司, 董事 are no given names
        return None if _is_word(text[start:end], strong) else start
    if (fallback is not None and not _is_word(text[fallback:end], strong)
            and not _is_word(text[fallback + 1 : end])):
        return fallback  # 由向帆医生: 向帆 is the only reading; not 和客户经理 (客户 is a word)
    return None


# A name opening a line of dialogue or an interview answer (姜山：你怎么看？; 问：……。金石开：……):
# at the start of the text or of a sentence, right before a colon
_SPEAKER_RE = re.compile(r"(?:^|(?<=[。！？!?\n\s]))([\u4e00-\u9fff]{2,3})[：:]")


def _speakers(text: str) -> list[tuple[int, int]]:
    """Names that open a sentence before a colon: a surname, one or two given-name characters,
    not a word (地址：, 时间：, 王府井：), not a title (王先生：)."""
    names = []
    for m in _SPEAKER_RE.finditer(text):
        word = m.group(1)
        ls = _surname_len(word, 0)
        if (ls and 1 <= len(word) - ls <= 2 and _given_ok(word[ls:])
                and not word.endswith(_SUFFIXES) and not _is_word(word)):
            names.append(m.span(1))
    return names


class CnPersonRecognizer(PersonRecognizer):
    CONTEXT_SCORE = 0.85
    FALLBACK_SCORE = 0.6

    def __init__(self, supported_language: str = "zh", use_jieba_fallback: bool = True):
        super().__init__(supported_language)
        self.use_jieba_fallback = use_jieba_fallback

    def load(self) -> None:
        _dictionary()

    def find(self, text: str) -> list[tuple[int, int, float]]:
        """(start, end, score) of names; the scanner calls this directly."""
        speakers = _speakers(text) if "：" in text or ":" in text else []
        if not _CONTEXT_RE.search(text):
            return [(start, end, self.CONTEXT_SCORE) for start, end in speakers]
        found: dict[tuple[int, int], float] = {}
        for m in _PREFIX_RE.finditer(text):
            pos = m.end()
            if text[pos : pos + 1] not in _SURNAME_STARTS:  # no surname, no name (cheap test)
                continue
            end = _name_after(text, pos, m.group(1) in _STRONG)
            if end is None:
                end = _closed_word_name(text, pos, m.group(1))
            if end is not None and (m.group(1) not in _TITLE_PREFIXES
                                    or TITLE_NAME_END.match(text, end)):
                found[(pos, end)] = self.CONTEXT_SCORE
        for m in _SUFFIX_RE.finditer(text):
            pos, word = m.start(), m.group(1)
            if word in ("男", "女") and text[pos - 1 : pos] in ("：", ":"):
                pos -= 1  # 申林：男，
            while word in _TITLES and text[pos - 1 : pos] in _TITLE_HEADS:
                pos -= 1  # 侯云春副主任, 封屹总经理: the title starts at 副/总
            if word in _TITLES and _surname_alone(text, pos):
                found[(pos - 1, pos)] = self.CONTEXT_SCORE  # 黄先生: the surname is all we have
            if _SURNAME_STARTS.isdisjoint(text[max(0, pos - 4) : pos - 1]):  # same test
                continue
            start = _name_before(text, pos, word in _STRONG or word[-1] in "男女")
            if start is not None:
                found.pop((pos - 1, pos), None)
                found[(start, pos)] = self.CONTEXT_SCORE
        # a strong context word (姓名, 联系人, 先生) promises a name: ask jieba when we found none;
        # weak ones (患者自述...) mostly have none, and jieba would cost 0.5 ms a text
        if not found and self.use_jieba_fallback and _STRONG_RE.search(text):
            found = dict.fromkeys(self._jieba_names(text), self.FALLBACK_SCORE)
        found.update(dict.fromkeys(speakers, self.CONTEXT_SCORE))
        return [(start, end, score) for (start, end), score in sorted(found.items())]

    def _jieba_names(self, text: str) -> list[tuple[int, int]]:
        """Words jieba tags `nr` that start with a known surname, close to a context word.

        jieba cuts each run of CJK/alphanumeric characters (its `re_han_internal` blocks) on
        its own, so the words of a block depend on the block only: blocks are tagged once each
        (`_block_names`, cached), and only blocks where a surname starts near a context word."""
        near = [(m.start() - 10, m.end() + 6) for m in _CONTEXT_RE.finditer(text)
                if m.group() not in _TITLE_PREFIXES]  # a title alone does not promise a name
        names = []
        for block in _jieba_block_re().finditer(text):
            bs, be = block.span()
            # a name word starts with a surname followed by one more character of the block,
            # within 6 characters after a context word or ending at most 6 before one
            if not any(lo <= s.start() <= hi for s in _NAME_START.finditer(text, bs, be)
                       for lo, hi in near):
                continue
            for start, end in _block_names(block.group()):
                start, end = bs + start, bs + end
                if any(lo + 4 <= end and start <= hi for lo, hi in near):
                    names.append((start, end))
        return names

