"""health_visits (市卫生健康委): visits with names, resident IDs, phones, ICD-10 codes and a
free-text doctor note written from varied templates, PII glued to CJK text."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yishu.samples.arrays import (
    _arr,
    _date_strings,
    _join,
    _mask,
    _mmdd,
    _money,
    _money_strings,
    _pad,
    _pick,
    _pick_grouped,
    _ragged,
    _s,
    _year,
)
from yishu.samples.hospitals import _HOSPITAL_WEIGHTS, _HOSPITALS, _hospital_table
from yishu.samples.identifiers import (
    _PROVINCE_NAMES,
    BIRTH_YEARS,
    PATIENT_PROVINCES,
    _bad_phones,
    _mobiles,
    _resident_ids,
    _spaced,
    _wrong_check_digit,
)
from yishu.samples.pools import _pools

DEPARTMENTS = ["内科", "外科", "儿科", "妇产科", "眼科", "耳鼻喉科", "口腔科", "皮肤科", "急诊科",
               "中医科"]
_DEPT_WEIGHTS = np.array([28, 12, 4, 8, 7, 7, 8, 7, 11, 8], float)
_DEPT_MEDIAN_COST = np.array([260, 1200, 180, 900, 220, 240, 380, 200, 450, 230], float)
# (ICD-10 codes, chief complaints) per department, in DEPARTMENTS order
_DEPT_DETAIL = [
    (["I10", "E11.9", "J45.0", "K29.7", "J18.9", "E78.5", "I25.1", "J20.9"],
     ["头晕乏力一周", "咳嗽伴发热两天", "胸闷气短三天", "血糖控制不佳", "上腹隐痛半月"]),
    (["K35.8", "K80.2", "K40.9", "M54.5", "S52.5", "L02.4"],
     ["右下腹痛一天", "腰痛两周", "腹股沟包块三月", "摔伤右前臂"]),
    (["J06.9", "A09", "J02.9", "J45.0"],
     ["陪同患儿就诊，发热一天", "陪同患儿就诊，腹泻两天", "陪同患儿就诊，咳嗽三天"]),
    (["O80", "N76.0", "O26.8", "N92.0", "Z34.9"],
     ["停经十周", "月经不规律三月", "下腹坠胀一周", "产检"]),
    (["H52.1", "H10.9", "H25.9", "H40.9"],
     ["视物模糊一月", "眼红眼痒三天", "眼胀头痛"]),
    (["J30.4", "H66.9", "J32.9", "J35.0"],
     ["鼻塞流涕两周", "耳痛伴听力下降", "咽痛三天"]),
    (["K02.9", "K05.1", "K04.0", "K08.1"],
     ["牙痛三天", "刷牙出血", "牙齿松动"]),
    (["L20.9", "L30.9", "L70.0", "B35.4"],
     ["皮疹瘙痒五天", "面部痤疮反复", "足部脱皮瘙痒"]),
    (["S06.0", "R10.4", "S61.0", "T78.4", "R50.9"],
     ["头部外伤两小时", "突发腹痛", "手指割伤出血", "高热不退"]),
    (["M54.5", "G47.0", "K59.0", "R51", "M47.8"],
     ["失眠多梦一月", "颈肩酸痛", "便秘两周", "头痛反复发作"]),
]
_ADVICE = ["嘱多饮水、注意休息", "低盐低脂饮食", "一周后门诊复查", "按时服药，忌辛辣",
           "避免劳累，定期监测血压", "必要时住院观察"]

_VISIT_SPACE = 10**10


def _health_visits(rng, n, seed, day, offset, plan, dirt) -> dict[str, pa.Array]:
    pools = _pools(seed)
    # A patient pool (~0.8 per visit) gives some repeat visits, as in a real visit log. Ages
    # cluster around working age and the elderly (two bumps), births clipped to 1940–2008.
    n_pat = max(1, int(n * 0.8))
    ages = np.where(rng.random(n_pat) < 0.6, rng.normal(40, 10, n_pat), rng.normal(63, 8, n_pat))
    birth_years = np.clip(_year(day) - np.round(ages).astype(np.int64), *BIRTH_YEARS)
    province = rng.choice(len(PATIENT_PROVINCES), n_pat, p=list(PATIENT_PROVINCES.values()))
    male = (rng.random(n_pat) < 0.5).astype(np.int64)
    names = np.where(male == 1, _pick(rng, pools["male"], n_pat),
                     _pick(rng, pools["female"], n_pat))
    ids, birth = _resident_ids(rng, birth_years, province, male)
    mobiles = _mobiles(rng, n_pat)

    pat = rng.integers(0, n_pat, n)
    names, male, province, birth = names[pat], male[pat], province[pat], birth[pat]
    ids, phones = ids.take(_arr(pat)), _s(mobiles[pat])

    h = rng.choice(len(_HOSPITALS), n, p=_HOSPITAL_WEIGHTS / _HOSPITAL_WEIGHTS.sum())
    dept = rng.choice(len(DEPARTMENTS), n, p=_DEPT_WEIGHTS / _DEPT_WEIGHTS.sum())
    dept = np.where((dept == DEPARTMENTS.index("妇产科")) & (male == 1), 0, dept)  # → 内科
    icd_table, icd_counts = _ragged([d[0] for d in _DEPT_DETAIL])
    complaint_table, complaint_counts = _ragged([d[1] for d in _DEPT_DETAIL])
    visit_days = day - rng.integers(1, 31, n)  # within the 30 days before the partition
    cost = _money(rng, _DEPT_MEDIAN_COST[dept], 0.7, 500_000)
    # Visit ids: an affine bijection of the global row index mod 10^10, unique across chunks:
    # the same bijection in every chunk, so drawn from the seed alone (drawn from the chunk's
    # stream, 60 ids repeated at 1M rows). The chunk's two draws stay, so no other value moves.
    rng.integers(1, _VISIT_SPACE // 10), rng.integers(0, _VISIT_SPACE)
    whole = np.random.default_rng([seed, 0xB1])
    a = int(whole.integers(1, _VISIT_SPACE // 10)) * 10 + 3  # odd and not a multiple of 5
    b = int(whole.integers(0, _VISIT_SPACE))
    visit_no = (a * np.arange(offset, offset + n, dtype=np.int64) + b) % _VISIT_SPACE
    age = _year(visit_days) - _year(birth) - (_mmdd(visit_days) < _mmdd(birth))
    notes = _doctor_notes(rng, pools, {
        "name": _arr(names), "gender": _arr(np.where(male == 1, "男", "女")),
        "age": _s(age), "id": ids, "phone": phones,
        "province": _arr(np.array([_PROVINCE_NAMES[p] for p in PATIENT_PROVINCES])[province]),
        "complaint": _arr(_pick_grouped(rng, dept, complaint_table, complaint_counts)),
    })
    hosp = _hospital_table()
    columns = {
        "visit_id": _join("V", _pad(visit_no, 10)),
        "patient_name": _arr(names),
        "patient_resident_id": ids,
        "patient_phone": phones,
        "hospital_uscc": hosp["uscc"].combine_chunks().take(_arr(h)),
        "hospital_name": hosp["enterprise_name"].combine_chunks().take(_arr(h)),
        "department": _arr(np.array(DEPARTMENTS)[dept]),
        "diagnosis_icd10": _arr(_pick_grouped(rng, dept, icd_table, icd_counts)),
        "visit_date": _date_strings(visit_days),
        "visit_cost": _money_strings(cost),
        "doctor_note": notes,
    }
    if plan:
        _plant_health(dirt, n, plan, columns)
    return columns


def _plant_health(rng, n, plan, columns) -> None:
    def replace(column, reason, make):
        rows = plan[reason]
        if len(rows):
            old = columns[column]
            columns[column] = pc.replace_with_mask(old, _mask(n, rows),
                                                   make(old.take(_arr(rows))))

    replace("patient_resident_id", "resident_id_check_digit",
            lambda ids: _wrong_check_digit(rng, ids))
    replace("patient_name", "null_patient_name", lambda v: pa.nulls(len(v), pa.string()))
    replace("visit_date", "null_visit_date", lambda v: pa.nulls(len(v), pa.string()))
    replace("patient_phone", "bad_phone", lambda v: _bad_phones(rng, v))
    replace("visit_cost", "negative_cost", lambda v: _join("-", v))
    # An old name next to a renamed hospital's USCC (a stale master record in the HIS).
    rows = plan["hospital_name_mismatch"]
    if len(rows):
        renamed = np.array([i for i, hosp in enumerate(_HOSPITALS) if hosp[2]])
        pick = _arr(renamed[rng.integers(0, len(renamed), len(rows))])
        table = _hospital_table()
        old_names = _arr([hosp[2] or "" for hosp in _HOSPITALS])
        columns["hospital_uscc"] = pc.replace_with_mask(
            columns["hospital_uscc"], _mask(n, rows), table["uscc"].combine_chunks().take(pick))
        columns["hospital_name"] = pc.replace_with_mask(
            columns["hospital_name"], _mask(n, rows), old_names.take(pick))


# Public: the benchmark parses notes back with these to score recall on what was planted.
NOTE_TEMPLATES = [  # (weight, parts): "{field}" parts are filled in, the rest is literal text
    (12, ["患者", "{name}", "，", "{gender}", "，", "{age}", "岁，身份证", "{id}", "，电话",
          "{phone}", "，主诉", "{complaint}", "。"]),
    (9, ["由", "{doctor}", "医生接诊，家属", "{family}", "(电话", "{family_phone_spaced}",
         ")陪同，", "{complaint}", "。"]),
    (9, ["联系人：", "{family_surname}", "{title}", "，手机", "{family_phone}", "。", "{advice}",
         "。"]),
    (9, ["{name}", "（身份证号：", "{id}", "）复诊，", "{advice}", "。"]),
    (10, ["患者自述", "{complaint}", "，既往体健，否认药物过敏史。", "{advice}", "。"]),  # no PII
    (10, ["{advice}", "，如有不适随时就诊。"]),  # no PII
    (9, ["患者", "{name}", "电话", "{phone_dashed}", "已核实，", "{advice}", "。"]),
    (8, ["医保身份信息：", "{id}", "，姓名", "{name}", "。", "{complaint}", "，给予对症治疗。"]),
    (12, ["回访电话+86 ", "{phone}", "，患者", "{name}", "表示症状好转。"]),
    (12, ["{name}", "，", "{age}", "岁，", "{province}", "籍，", "{complaint}", "，", "{advice}",
          "。"]),
]
NO_PII_NOTE_PREFIXES = ("患者自述", *_ADVICE)  # how the PII-free notes start (for tests)


def _doctor_notes(rng, pools, fields: dict[str, pa.Array]) -> pa.Array:
    """Free text from varied templates with PII glued to CJK text; ~20% carry no PII."""
    n = len(fields["name"])
    family_male = rng.random(n) < 0.5
    family = _arr(np.where(family_male, _pick(rng, pools["male"], n),
                               _pick(rng, pools["female"], n)))
    family_phone = _s(_mobiles(rng, n))
    fields = {
        **fields,
        "doctor": _arr(_pick(rng, np.concatenate([pools["male"], pools["female"]]), n)),
        "family": family,
        "family_surname": pc.utf8_slice_codeunits(family, 0, 1),
        "title": _arr(np.where(family_male, "先生", "女士")),
        "family_phone": family_phone,
        "family_phone_spaced": _spaced(family_phone, " "),
        "phone_dashed": _spaced(fields["phone"], "-"),
        "advice": _arr(_pick(rng, _ADVICE, n)),
    }
    weights = np.array([w for w, _ in NOTE_TEMPLATES], float)
    template = rng.choice(len(NOTE_TEMPLATES), n, p=weights / weights.sum())
    notes, order = [], []
    for t, (_, parts) in enumerate(NOTE_TEMPLATES):
        rows = np.flatnonzero(template == t)
        if len(rows):
            take = _arr(rows)
            notes.append(_join(*[fields[p[1:-1]].take(take) if p.startswith("{") else p
                                 for p in parts]))
            order.append(rows)
    if not notes:
        return _arr([], pa.string())
    # The notes were built template by template; put them back in row order.
    return pa.concat_arrays(notes).take(_arr(np.argsort(np.concatenate(order))))
