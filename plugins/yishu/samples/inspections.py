"""station_inspections: the inspection log of public charging stations, whose public remark
sometimes carries a station manager's phone (drift detection must stop it)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from yishu.samples.arrays import _arr, _date_strings, _join, _mask, _pad, _pick, _s
from yishu.samples.identifiers import _mobiles

_INSPECTION_RESULTS = np.array(["正常", "正常", "正常", "故障", "维修中"])
_REMARKS = np.array(["设备运行正常", "充电枪外观完好", "地面标识清晰", "一号桩屏幕故障，已报修",
                     "消防设施齐全", "车位被燃油车占用", "二号桩充电速度偏慢"])


def _station_inspections(rng, n, seed, day, offset, plan, dirt) -> dict[str, pa.Array]:
    """Inspection log of public charging stations (ids as in the UrbanEV station list)."""
    remark = _s(_pick(rng, _REMARKS, n))
    planted = plan.get("phone_in_remark", np.array([], np.int64))
    if len(planted):
        phones = _s(_mobiles(dirt, len(planted)))
        leaked = _join(pc.take(remark, _arr(planted)), "，联系站长", phones)
        remark = pc.replace_with_mask(remark, _mask(n, planted), leaked)
    return {
        "inspection_id": _join("INS", _pad(np.arange(offset, offset + n), 8)),
        "station_id": _s(rng.integers(1001, 2682, n)),
        "inspection_date": _date_strings(day - rng.integers(0, 30, n)),
        "result": _s(_pick(rng, _INSPECTION_RESULTS, n)),
        "remark": remark,
    }
