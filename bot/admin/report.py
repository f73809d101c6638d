"""The published statistics report: suppressed tables built from raw aggregates.

Every count of people passes through :mod:`routing.suppression` before it leaves here
(``"<5"`` for 1–4, ``"x"`` for complementary cells). Shares are shown only when both
their numerator and denominator are shown; times to acknowledgement only when at least
five referrals were acknowledged. Coverage (communes, focal points, shelters) counts
places, not people, and is not suppressed.

The report is a plain, JSON-ready dict; CSV, XLSX and the web page render the same dict,
so every format holds the same numbers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from routing.places import PlaceCode, load_places
from routing.suppression import HIDDEN_LABEL, suppress, suppress_vector
from storage.stats import DIMENSIONS, SERVICES, UNKNOWN, URGENCIES, Aggregates, quantile

__all__ = ["build_report", "LABELS_VI", "NOT_AVAILABLE", "TOTAL_VI", "COMMUNES_TOTAL"]

COMMUNES_TOTAL = 3321
TOTAL_VI = "Tổng"
MIN_FOR_TIMES = 5

LABELS_VI: dict[str, dict[str, str]] = {
    "category": {
        "rape": "Hiếp dâm", "sexual_assault": "Tấn công tình dục",
        "physical_assault": "Bạo lực thể chất", "forced_marriage": "Cưỡng ép kết hôn, tảo hôn",
        "denial_of_resources": "Chiếm đoạt, kiểm soát kinh tế",
        "psychological_abuse": "Bạo lực tinh thần", UNKNOWN: "Không rõ",
    },
    "reporter": {"survivor": "Người bị bạo lực", "witness": "Người chứng kiến", UNKNOWN: "Không rõ"},
    "channel": {"telegram": "Telegram", "zalo": "Zalo", "web": "Trò chuyện trên web",
                UNKNOWN: "Không rõ"},
    "age_band": {"0-11": "0–11", "12-17": "12–17", "18-25": "18–25", "26-40": "26–40",
                 "41-60": "41–60", "61+": "61+", UNKNOWN: "Không rõ"},
    "sex": {"female": "Nữ", "male": "Nam", "other": "Khác", UNKNOWN: "Không rõ"},
    "disability": {"yes": "Có khuyết tật", "no": "Không khuyết tật", UNKNOWN: "Không rõ"},
    "urgency": {"immediate": "Nguy hiểm tức thời", "high": "Cao", "normal": "Bình thường",
                UNKNOWN: "Không rõ"},
    "service": {"medical": "Y tế", "psychosocial": "Tâm lý – xã hội", "legal": "Pháp lý",
                "shelter": "Nơi tạm lánh", "police": "Công an", "information": "Thông tin"},
    "rung": {"0": "Đầu mối chính", "1": "Đầu mối dự phòng",
             "2": "Lãnh đạo xã / công an", "3": "Đầu mối tỉnh", "4": "Bậc 4"},
}  # fmt: skip

DIMENSION_TITLES_VI = {
    "category": "Số tin báo theo loại bạo lực",
    "reporter": "Số tin báo theo người báo (nạn nhân hoặc người chứng kiến)",
    "channel": "Số tin báo theo kênh",
    "age_band": "Số tin báo theo nhóm tuổi",
    "sex": "Số tin báo theo giới tính",
    "disability": "Số tin báo theo tình trạng khuyết tật",
    "urgency": "Số tin báo theo mức độ khẩn cấp",
}

NOT_AVAILABLE = [
    {
        "indicator": "ethnic_group",
        "title_vi": "Dân tộc",
        "reason": "not available without a schema change: the ethnic group is stored sealed "
        "(cases.details); statistics never decrypt",
    }
]


def province_label(code: str) -> str:
    if code == UNKNOWN:
        return "Không rõ"
    found = load_places().province(PlaceCode.province(code)) if code.isdigit() else None
    return found.name if found else code


def commune_label(code: str) -> str:
    if code == UNKNOWN:
        return "Không rõ"
    found = load_places().commune(PlaceCode.commune(code)) if code.isdigit() else None
    return found.name if found else code


def _provinces(agg: Aggregates) -> list[str]:
    if agg.period.province:
        return [agg.period.province]
    codes = [p.code.code for p in load_places().provinces]
    extra = sorted({p for p, _c, _m in agg.by_place_month} - set(codes))
    return codes + extra


def _count_table(
    tid: str,
    title_vi: str,
    row_head: str,
    rows: list[tuple[str, str]],
    cols: list[tuple[str, str]],
    counts: dict[tuple[str, str], int],
    *,
    row_totals: Sequence[Any] | None = None,
    col_totals: Sequence[Any] | None = None,
    total: Any = None,
) -> dict[str, Any]:
    """A suppressed two-way table of counts with its totals.

    Totals that linked tables publish too are given as published there (``row_totals``,
    ``col_totals``, ``total``): they are locked here and hidden where hidden there. The
    grand total is always locked (every table of a report shares it).
    """
    matrix = [[counts.get((r, c), 0) for c, _ in cols] for r, _ in rows]
    base = {
        "id": tid, "kind": "counts", "title_vi": title_vi, "row_heading_vi": row_head,
        "rows": [{"code": r, "label": lab} for r, lab in rows],
        "columns": [{"code": c, "label": lab} for c, lab in cols],
    }  # fmt: skip
    if not rows or not cols:
        return base | {"cells": [], "row_totals": [], "col_totals": [], "total": 0}
    nr, nc = len(rows), len(cols)
    locked, hidden = [(nr, nc)], []
    if total == HIDDEN_LABEL:
        hidden.append((nr, nc))
    for i, x in enumerate(row_totals or ()):
        locked.append((i, nc))
        if x == HIDDEN_LABEL:
            hidden.append((i, nc))
    for j, x in enumerate(col_totals or ()):
        locked.append((nr, j))
        if x == HIDDEN_LABEL:
            hidden.append((nr, j))
    t = suppress(matrix, hidden=hidden, locked=locked)
    return base | {
        "cells": t.published_cells(),
        "row_totals": t.published_row_totals(),
        "col_totals": t.published_col_totals(),
        "total": t.published_total(),
    }


def _margin(values: list[int]) -> tuple[list[Any], Any]:
    """A shared margin (e.g. reports per province) suppressed once, as a vector."""
    v = suppress_vector(values, fixed_margins=True)
    return v.published_values(), v.published_total()


def _share(num: Any, den: Any) -> float | str | None:
    if not isinstance(num, int) or not isinstance(den, int):
        return HIDDEN_LABEL
    if den == 0:
        return None
    return round(100.0 * num / den, 1)


def _month_label(m: str) -> str:
    y, mo = m.split("-")
    return f"Tháng {int(mo)}/{y}"


def build_report(
    agg: Aggregates, *, generated_at: datetime, communes: bool = True
) -> dict[str, Any]:
    """The whole published report for the aggregates' period, as a JSON-ready dict.

    ``communes=False`` leaves out the commune tables (the national web view).
    """
    period = agg.period
    places = load_places()
    provinces = _provinces(agg)
    months = period.months()
    prov_rows = [(p, province_label(p)) for p in provinces]
    month_cols = [(m, _month_label(m)) for m in months]
    tables: list[dict[str, Any]] = []

    per_province = agg.by_province_month()
    prov_margin, grand = _margin([sum(per_province.get((p, m), 0) for m in months)
                                  for p in provinces])  # fmt: skip
    month_margin, _ = _margin([sum(per_province.get((p, m), 0) for p in provinces)
                               for m in months])  # fmt: skip
    by_month = _count_table(
        "reports_by_province_month",
        "Số tin báo theo tỉnh và tháng",
        "Tỉnh/thành phố",
        prov_rows,
        month_cols,
        per_province,
        row_totals=prov_margin,
        col_totals=month_margin,
        total=grand,
    )
    tables.append(by_month)
    by_commune = agg.by_commune_month() if communes else {}
    for i, p in enumerate(provinces if communes else ()):
        commune_counts = by_commune.get(p, {})
        if p.isdigit():
            communes = [c.code.code for c in places.communes_in(PlaceCode.province(p))]
        else:
            communes = []
        communes += sorted({c for c, _m in commune_counts} - set(communes))
        if period.commune:  # a commune's own report: its row only
            communes = [c for c in communes if c == period.commune]
        # The province's months and total, as the first table publishes them.
        tables.append(
            _count_table(
                f"reports_by_commune_month:{p}",
                f"Số tin báo theo xã và tháng — {province_label(p)}",
                "Xã/phường/đặc khu",
                [(c, commune_label(c)) for c in communes],
                month_cols,
                commune_counts,
                col_totals=by_month["cells"][i],
                total=by_month["row_totals"][i],
            )
        )
    for dim in DIMENSIONS:
        counts = agg.by_dimension.get(dim, {})
        # Stable columns: every coded value (storage.stats.DIMENSION_VALUES), then unknown.
        cols = list(LABELS_VI[dim].items())
        tables.append(
            _count_table(
                f"reports_by_{dim}",
                DIMENSION_TITLES_VI[dim],
                "Tỉnh/thành phố",
                prov_rows,
                cols,
                counts,
                row_totals=by_month["row_totals"],
                total=by_month["total"],
            )
        )
    tables.append(_services_table(agg, prov_rows, by_month))
    tables.append(_ack_table(agg))
    tables.append(_escalation_table(agg))
    tables.append(_coverage_table(agg, provinces))
    tables.append(_shelter_table(agg, prov_rows))
    tables.append(_uncounted_table(agg))
    return {
        "title_vi": "Báo cáo thống kê đường dây Lên Tiếng",
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat(),
                   "province": period.province, "commune": period.commune,
                   "scope": period.scope,
                   "as_of": period.as_of.isoformat() if period.as_of else None},
        "generated_at": generated_at.isoformat(),
        "counted": "cases with consent to statistics only; the others as one total by urgency",
        "suppression": {"small": "<5", "hidden": HIDDEN_LABEL,
                        "rule": "counts 1-4 shown as <5; complementary cells shown as x"},
        "not_available": NOT_AVAILABLE,
        "tables": tables,
    }  # fmt: skip


def _column_vectors(columns: dict[str, list[int]]) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """Each column suppressed as a vector with its total (the rows are not additive)."""
    cells, totals = {}, {}
    for name, values in columns.items():
        v = suppress_vector(values, fixed_margins=True)
        cells[name], totals[name] = v.published_values(), v.published_total()
    return cells, totals


def _services_table(
    agg: Aggregates, prov_rows: list[tuple[str, str]], by_month: dict[str, Any]
) -> dict[str, Any]:
    names = ["any", *SERVICES]
    raw = {n: [agg.services.get(p, {}).get(n, 0) for p, _ in prov_rows] for n in names}
    cells, totals = _column_vectors(raw)
    # The number of reports is the first table's row totals, published exactly as there.
    cells["cases"], totals["cases"] = by_month["row_totals"], by_month["total"]
    cols = [("cases", "Số tin báo"), ("any", "Được ít nhất một dịch vụ"),
            ("any_share", "Tỷ lệ được dịch vụ (%)")]  # fmt: skip
    cols += [(s, LABELS_VI["service"][s]) for s in SERVICES]
    rows_out = []
    for i in range(len(prov_rows)):
        row = [cells["cases"][i], cells["any"][i], _share(cells["any"][i], cells["cases"][i])]
        rows_out.append(row + [cells[s][i] for s in SERVICES])
    total = [totals["cases"], totals["any"], _share(totals["any"], totals["cases"])]
    total += [totals[s] for s in SERVICES]
    return {
        "id": "services", "kind": "indicator",
        "title_vi": "Tin báo được hỗ trợ ít nhất một dịch vụ, theo dịch vụ (mục tiêu 100%)",
        "row_heading_vi": "Tỉnh/thành phố",
        "rows": [{"code": r, "label": lab} for r, lab in prov_rows],
        "columns": [{"code": c, "label": lab} for c, lab in cols],
        "cells": rows_out, "row_totals": None, "col_totals": total, "total": None,
    }  # fmt: skip


def _ack_table(agg: Aggregates) -> dict[str, Any]:
    per: dict[str, dict[str, Any]] = {u: {"n": 0, "ack": 0, "within": 0, "hist": defaultdict(int)}
                                      for u in URGENCIES}  # fmt: skip
    for (u, _level, mins, within), n in agg.referrals.items():
        slot = per.setdefault(u, {"n": 0, "ack": 0, "within": 0, "hist": defaultdict(int)})
        slot["n"] += n
        if mins is not None:
            slot["ack"] += n
            slot["hist"][mins] += n
        if within:
            slot["within"] += n
    urgencies = list(per)
    raw = {k: [per[u][k] for u in urgencies] for k in ("n", "ack", "within")}
    cells, totals = _column_vectors(raw)
    all_hist: dict[int, int] = defaultdict(int)
    for u in urgencies:
        for m, n in per[u]["hist"].items():
            all_hist[m] += n

    def times(hist: dict[int, int], ack: int) -> list[Any]:
        if ack < MIN_FOR_TIMES:
            return [HIDDEN_LABEL, HIDDEN_LABEL]
        return [quantile(hist, 0.5), quantile(hist, 0.9)]

    rows_out = []
    for i, u in enumerate(urgencies):
        rows_out.append(
            [agg.sla_minutes.get(u), cells["n"][i], cells["ack"][i],
             *times(per[u]["hist"], per[u]["ack"]), cells["within"][i],
             _share(cells["within"][i], cells["n"][i])]
        )  # fmt: skip
    total = [None, totals["n"], totals["ack"], *times(all_hist, sum(all_hist.values())),
             totals["within"], _share(totals["within"], totals["n"])]  # fmt: skip
    cols = [("sla_minutes", "Thời hạn (phút)"), ("referrals", "Số lần chuyển gửi"),
            ("acknowledged", "Đã xác nhận"), ("median_minutes", "Trung vị (phút)"),
            ("p90_minutes", "Phân vị 90 (phút)"), ("within_sla", "Xác nhận đúng hạn"),
            ("within_sla_share", "Tỷ lệ đúng hạn (%)")]  # fmt: skip
    return {
        "id": "acknowledgement", "kind": "indicator",
        "title_vi": "Thời gian xác nhận tin chuyển gửi và tỷ lệ đúng hạn theo mức độ khẩn cấp",
        "row_heading_vi": "Mức độ khẩn cấp",
        "rows": [{"code": u, "label": LABELS_VI["urgency"].get(u, u)} for u in urgencies],
        "columns": [{"code": c, "label": lab} for c, lab in cols],
        "cells": rows_out, "row_totals": None, "col_totals": total, "total": None,
    }  # fmt: skip


def _escalation_table(agg: Aggregates) -> dict[str, Any]:
    by_level: dict[int, int] = defaultdict(int)
    for (_u, level, _m, _w), n in agg.referrals.items():
        by_level[level] += n
    levels = list(range(max([3, *by_level]) + 1))
    v = suppress_vector([by_level.get(lv, 0) for lv in levels], fixed_margins=True)
    return {
        "id": "escalations", "kind": "counts",
        "title_vi": "Số tin chuyển gửi theo bậc leo thang đã đạt tới",
        "row_heading_vi": "Bậc",
        "rows": [{"code": str(lv), "label": LABELS_VI["rung"].get(str(lv), f"Bậc {lv}")}
                 for lv in levels],
        "columns": [{"code": "referrals", "label": "Số lần chuyển gửi"}],
        "cells": [[x] for x in v.published_values()],
        "row_totals": None, "col_totals": [v.published_total()], "total": None,
    }  # fmt: skip


def _coverage_table(agg: Aggregates, provinces: list[str]) -> dict[str, Any]:
    places = load_places()
    rows, cells = [], []
    sums = [0, 0, 0, 0]
    for p in provinces:
        if not p.isdigit():
            continue
        communes = {c.code.code for c in places.communes_in(PlaceCode.province(p))}
        n = len(communes)
        fp = len(communes & agg.communes_with_focal_point)
        duty = len(communes & agg.communes_on_duty)
        sh = len(communes & agg.communes_with_shelter)
        for k, x in enumerate((n, fp, duty, sh)):
            sums[k] += x
        rows.append({"code": p, "label": province_label(p)})
        cells.append([n, fp, _share(fp, n), duty, _share(duty, n), sh, _share(sh, n)])
    n, fp, duty, sh = sums
    cols = [("communes", "Số xã"), ("with_focal_point", "Xã có đầu mối"),
            ("with_focal_point_share", "Tỷ lệ có đầu mối (%)"),
            ("on_duty_now", "Xã có đầu mối đang trực"),
            ("on_duty_share", "Tỷ lệ đang trực (%)"), ("with_shelter", "Xã có nơi tạm lánh"),
            ("with_shelter_share", "Tỷ lệ có nơi tạm lánh (%)")]  # fmt: skip
    return {
        "id": "coverage", "kind": "indicator",
        "title_vi": f"Độ bao phủ: xã có đầu mối trực và có nơi tạm lánh (trên tổng {COMMUNES_TOTAL} xã; mục tiêu 100%)",
        "row_heading_vi": "Tỉnh/thành phố", "rows": rows,
        "columns": [{"code": c, "label": lab} for c, lab in cols],
        "cells": cells, "row_totals": None,
        "col_totals": [n, fp, _share(fp, n), duty, _share(duty, n), sh, _share(sh, n)],
        "total": None, "at": agg.at.isoformat(),
    }  # fmt: skip


def _shelter_table(agg: Aggregates, prov_rows: list[tuple[str, str]]) -> dict[str, Any]:
    data = [agg.shelters.get(p, (0, 0, 0)) for p, _ in prov_rows]
    occ = suppress_vector([d[2] for d in data], fixed_margins=True)
    cells = []
    for d, o in zip(data, occ.published_values(), strict=True):
        cells.append([d[0], d[1], o, _share(o, d[1])])
    n, cap = sum(d[0] for d in data), sum(d[1] for d in data)
    total = [n, cap, occ.published_total(), _share(occ.published_total(), cap)]
    cols = [("shelters", "Số nơi tạm lánh"), ("capacity", "Sức chứa"),
            ("occupancy", "Đang sử dụng"), ("occupancy_share", "Tỷ lệ sử dụng (%)")]  # fmt: skip
    return {
        "id": "shelters", "kind": "indicator",
        "title_vi": "Nơi tạm lánh: sức chứa và mức sử dụng",
        "row_heading_vi": "Tỉnh/thành phố",
        "rows": [{"code": r, "label": lab} for r, lab in prov_rows],
        "columns": [{"code": c, "label": lab} for c, lab in cols],
        "cells": cells, "row_totals": None, "col_totals": total, "total": None,
    }  # fmt: skip


def _uncounted_table(agg: Aggregates) -> dict[str, Any]:
    """Reports whose person did not agree to be counted: one total by urgency, nothing more
    (danger alerts too, which do not ask). Not by commune: their tallies name none."""
    urgencies = [*URGENCIES, *sorted(set(agg.uncounted) - set(URGENCIES))]
    v = suppress_vector([agg.uncounted.get(u, 0) for u in urgencies], fixed_margins=True)
    return {
        "id": "uncounted", "kind": "counts",
        "title_vi": "Tin báo không đồng ý cho thống kê (chỉ tổng số, theo mức độ khẩn cấp)",
        "row_heading_vi": "Mức độ khẩn cấp",
        "rows": [{"code": u, "label": LABELS_VI["urgency"].get(u, u)} for u in urgencies],
        "columns": [{"code": "reports", "label": "Số tin báo"}],
        "cells": [[x] for x in v.published_values()],
        "row_totals": None, "col_totals": [v.published_total()], "total": None,
        "available": agg.period.commune is None,
    }  # fmt: skip
