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
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from dialogs.ethnic import GROUPS as ETHNIC_GROUPS
from dialogs.i18n import translator
from routing import suppression
from routing.indicators import (
    COMMUNITY_SHELTER_KINDS,
    CONTEXT_LABELS_VI,
    INDICATORS,
    OFFICIAL_LABEL_VI,
    PRIORITY_GROUPS,
    PUBLIC_LABEL_VI,
    SHELTER_KIND_LABELS_VI,
    indicator,
)
from routing.places import PlaceCode, load_places
from routing.suppression import HIDDEN_LABEL
from storage.stats import (
    CONTEXTS,
    DIMENSIONS,
    KINH,
    SERVICES,
    UNKNOWN,
    URGENCIES,
    Aggregates,
    quantile,
)
from storage.training import ACTIVITY_KINDS

__all__ = ["build_report", "LABELS_VI", "NOT_AVAILABLE", "TOTAL_VI", "COMMUNES_TOTAL"]

COMMUNES_TOTAL = 3321
TOTAL_VI = "Tổng"
MIN_FOR_TIMES = 5
PUBLIC, OFFICIAL = "public", "official"
KINDS = (PUBLIC, OFFICIAL)
# The smallest count shown as it is: 5 in the public report (1-4 are "<5"); 1 in the
# official one (exact counts: nothing is suppressed). Set by build_report.
_THRESHOLD: ContextVar[int] = ContextVar("threshold", default=5)


def suppress(cells, **kw):
    return suppression.suppress(cells, threshold=_THRESHOLD.get(), **kw)


def suppress_vector(values, **kw):
    return suppression.suppress_vector(values, threshold=_THRESHOLD.get(), **kw)


def _small(value: int) -> Any:
    """One count published on its own (no total it adds up to): 1-4 as "<5"."""
    status = suppression.PRIMARY if 0 < value < _THRESHOLD.get() else suppression.SHOWN
    return suppression.published(value, status, _THRESHOLD.get())


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
    "migrant": {"yes": "Người di cư", "no": "Không di cư", UNKNOWN: "Không rõ, không muốn nói"},
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
    "migrant": indicator("migrant").title_vi,
    "urgency": "Số tin báo theo mức độ khẩn cấp",
}

NOT_AVAILABLE: list[dict[str, str]] = []  # every indicator of the plans is in the report


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
    agg: Aggregates, *, generated_at: datetime, communes: bool = True, kind: str = PUBLIC
) -> dict[str, Any]:
    """The whole report for the aggregates' period, as a JSON-ready dict.

    ``kind`` is ``public`` (small counts suppressed) or ``official`` (exact counts, for the
    responsible agency only: labelled so on every table and sheet). ``communes=False``
    leaves out the commune tables (the national web view).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown report kind {kind!r}")
    token = _THRESHOLD.set(1 if kind == OFFICIAL else 5)
    try:
        return _build(agg, generated_at=generated_at, communes=communes, kind=kind)
    finally:
        _THRESHOLD.reset(token)


def _build(agg: Aggregates, *, generated_at: datetime, communes: bool, kind: str) -> dict[str, Any]:
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
    dims = {t["id"]: t for t in tables}
    tables.append(_ethnic_table(agg, prov_rows, by_month))
    tables.append(_contexts_table(agg, prov_rows))
    tables.append(_priority_table(agg, dims, tables[-2]))
    tables.append(_services_table(agg, prov_rows, by_month))
    tables.append(_ack_table(agg))
    tables.append(_escalation_table(agg))
    tables.append(_coverage_table(agg, provinces))
    tables.append(_safe_places_table(agg, provinces))
    tables.append(_shelter_table(agg, prov_rows))
    tables.append(_shelter_kinds_table(agg))
    tables.append(_training_table(agg, prov_rows))
    tables.append(_communication_table(agg))
    tables.append(_uncounted_table(agg))
    for t in tables:
        t["group"] = table_group(t["id"])
    official = kind == OFFICIAL
    return {
        "title_vi": "Báo cáo thống kê đường dây Lên Tiếng",
        "kind": kind,
        "label_vi": OFFICIAL_LABEL_VI if official else PUBLIC_LABEL_VI,
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat(),
                   "province": period.province, "commune": period.commune,
                   "scope": period.scope,
                   "as_of": period.as_of.isoformat() if period.as_of else None},
        "generated_at": generated_at.isoformat(),
        "counted": "cases with consent to statistics only; the others as one total by urgency",
        "suppression": (
            {"small": None, "hidden": None, "rule": "none: exact counts (official report)"}
            if official else
            {"small": "<5", "hidden": HIDDEN_LABEL,
             "rule": "counts 1-4 shown as <5; complementary cells shown as x"}),
        "indicators": [{"code": i.code, "name_vi": i.name_vi, "target": i.target,
                        "source": i.source} for i in INDICATORS],
        "not_available": NOT_AVAILABLE,
        "tables": tables,
    }  # fmt: skip


# Indicator groups (one XLSX sheet each): table id prefix → group code (routing.indicators).
TABLE_GROUPS: tuple[tuple[str, str], ...] = (
    ("reports_by_province_month", "reports"), ("reports_by_commune_month", "reports"),
    ("reports_by_channel", "reports"), ("reports_by_reporter", "reports"),
    ("reports_by_urgency", "reports"), ("uncounted", "reports"),
    ("reports_by_", "attributes"), ("ethnic_group", "attributes"), ("contexts", "attributes"),
    ("priority_groups", "priority"), ("services", "services"),
    ("acknowledgement", "response"), ("escalations", "response"),
    ("coverage", "coverage"), ("safe_places", "coverage"), ("shelter", "coverage"),
    ("training", "capacity"), ("communication", "capacity"),
)  # fmt: skip


def table_group(table_id: str) -> str:
    for prefix, group in TABLE_GROUPS:
        if table_id.startswith(prefix):
            return group
    return "reports"


def ethnic_label(code: str) -> str:
    """The official name of a GSO ethnic code ("12 Ê Đê")."""
    if code == UNKNOWN:
        return "Không rõ, không muốn nói"
    tr = translator("vi")
    for gso, _slug, msgid in ETHNIC_GROUPS:
        if gso == code:
            return f"{gso} {tr.gettext(msgid)}"
    return code


def _ethnic_table(
    agg: Aggregates, prov_rows: list[tuple[str, str]], by_month: dict[str, Any]
) -> dict[str, Any]:
    """Reports by ethnic group (rows: the 54 official groups, then unknown) and province
    (columns, whose totals are the first table's province totals, as published there)."""
    counts = {(e, p): n for (p, e), n in agg.ethnic.items()}
    rows = [(gso, ethnic_label(gso)) for gso, _s, _m in ETHNIC_GROUPS]
    rows.append((UNKNOWN, ethnic_label(UNKNOWN)))
    return _count_table(
        "ethnic_group", indicator("ethnic_group").title_vi, "Dân tộc", rows, prov_rows, counts,
        col_totals=by_month["row_totals"], total=by_month["total"],
    )  # fmt: skip


def _contexts_table(agg: Aggregates, prov_rows: list[tuple[str, str]]) -> dict[str, Any]:
    """Reports by context (columns; a report may have several): each column suppressed
    as a vector with its total."""
    raw = {c: [agg.contexts.get(p, {}).get(c, 0) for p, _ in prov_rows] for c in CONTEXTS}
    cells, totals = _column_vectors(raw)
    return {
        "id": "contexts", "kind": "counts", "title_vi": indicator("contexts").title_vi,
        "row_heading_vi": "Tỉnh/thành phố",
        "rows": [{"code": r, "label": lab} for r, lab in prov_rows],
        "columns": [{"code": c, "label": CONTEXT_LABELS_VI[c]} for c in CONTEXTS],
        "cells": [[cells[c][i] for c in CONTEXTS] for i in range(len(prov_rows))],
        "row_totals": None, "col_totals": [totals[c] for c in CONTEXTS], "total": None,
    }  # fmt: skip


def _published_total(table: dict[str, Any], code: str) -> Any:
    """A column's total as ``table`` publishes it."""
    j = [c["code"] for c in table["columns"]].index(code)
    return table["col_totals"][j]


def _priority_table(
    agg: Aggregates, dims: dict[str, dict[str, Any]], ethnic: dict[str, Any]
) -> dict[str, Any]:
    """The plans' priority groups: their reports (as the linked tables publish them) and
    how many reached at least one service. A report may be in several groups."""
    served = {g: sum(agg.priority.get(p, {}).get(g, (0, 0))[1] for p in agg.priority)
              for g, _ in PRIORITY_GROUPS}  # fmt: skip
    reports: dict[str, Any] = {
        "migrant": _published_total(dims["reports_by_migrant"], "yes"),
        "disability": _published_total(dims["reports_by_disability"], "yes"),
    }
    # Ethnic minorities: every report less the Kinh and the unknown, as published.
    codes = [r["code"] for r in ethnic["rows"]]
    kinh, unknown = (ethnic["row_totals"][codes.index(c)] for c in (KINH, UNKNOWN))
    whole = ethnic["total"]
    parts = (whole, kinh, unknown)
    reports["ethnic_minority"] = (whole - kinh - unknown
                                  if all(isinstance(x, int) for x in parts) else HIDDEN_LABEL)  # fmt: skip
    rows_out = []
    for g, _name in PRIORITY_GROUPS:
        got = _small(served[g])
        rows_out.append([reports[g], got, _share(got, reports[g])])
    return {
        "id": "priority_groups", "kind": "indicator",
        "title_vi": indicator("priority_groups").title_vi, "row_heading_vi": "Nhóm ưu tiên",
        "rows": [{"code": g, "label": name} for g, name in PRIORITY_GROUPS],
        "columns": [{"code": "reports", "label": "Số tin báo"},
                    {"code": "served", "label": "Được ít nhất một dịch vụ"},
                    {"code": "served_share", "label": "Tỷ lệ được dịch vụ (%)"}],
        "cells": rows_out, "row_totals": None, "col_totals": None, "total": None,
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
        "title_vi": indicator("needs_met").title_vi + " — theo dịch vụ",
        "target": indicator("needs_met").target,
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
        if ack == 0 and _THRESHOLD.get() == 1:
            return [None, None]  # exact: nothing to time
        if ack < (MIN_FOR_TIMES if _THRESHOLD.get() > 1 else 1):
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
        "title_vi": indicator("acknowledged_within_sla").title_vi
        + " — thời gian xác nhận theo mức độ khẩn cấp",
        "target": indicator("acknowledged_within_sla").target,
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
    cols = [("communes", "Số xã"),
            ("with_focal_point", "Xã tiếp nhận tin báo trực tuyến (có đầu mối)"),
            ("with_focal_point_share", "Tỷ lệ xã tiếp nhận trực tuyến (%)"),
            ("on_duty_now", "Xã có đầu mối đang trực"),
            ("on_duty_share", "Tỷ lệ đang trực (%)"),
            ("with_shelter", "Xã có nơi tạm lánh (mọi loại)"),
            ("with_shelter_share", "Tỷ lệ có nơi tạm lánh (%)")]  # fmt: skip
    return {
        "id": "coverage", "kind": "indicator",
        "title_vi": f"{indicator('communes_online').title_vi} — xã có đầu mối trên Lên Tiếng, "
        f"đang trực, có nơi tạm lánh (trên tổng {COMMUNES_TOTAL} xã)",
        "target": indicator("communes_online").target,
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
        "title_vi": indicator("shelter_occupancy").title_vi + " — theo tỉnh",
        "row_heading_vi": "Tỉnh/thành phố",
        "rows": [{"code": r, "label": lab} for r, lab in prov_rows],
        "columns": [{"code": c, "label": lab} for c, lab in cols],
        "cells": cells, "row_totals": None, "col_totals": total, "total": None,
    }  # fmt: skip


def _safe_places_table(agg: Aggregates, provinces: list[str]) -> dict[str, Any]:
    """Communes with a community shelter or a trusted address, counted by kind (places,
    not people: not suppressed)."""
    places = load_places()
    kinds = list(COMMUNITY_SHELTER_KINDS)
    either = set().union(*(agg.communes_by_kind.get(k, set()) for k in kinds))
    rows, cells = [], []
    sums = [0] * (len(kinds) + 2)
    for p in provinces:
        if not p.isdigit():
            continue
        communes = {c.code.code for c in places.communes_in(PlaceCode.province(p))}
        if agg.period.commune:
            communes &= {agg.period.commune}
        counts = [len(communes), *(len(communes & agg.communes_by_kind.get(k, set()))
                                   for k in kinds), len(communes & either)]  # fmt: skip
        sums = [a + b for a, b in zip(sums, counts, strict=True)]
        rows.append({"code": p, "label": province_label(p)})
        cells.append(_with_shares(counts))
    cols = [("communes", "Số xã")]
    for k in kinds:
        cols += [(f"with_{k}", f"Xã có {SHELTER_KIND_LABELS_VI[k].lower()}"),
                 (f"with_{k}_share", "Tỷ lệ (%)")]  # fmt: skip
    cols += [("with_either", "Xã có nhà tạm lánh hoặc địa chỉ tin cậy"),
             ("with_either_share", "Tỷ lệ (%)")]  # fmt: skip
    return {
        "id": "safe_places", "kind": "indicator",
        "title_vi": indicator("communes_with_safe_place").title_vi,
        "target": indicator("communes_with_safe_place").target,
        "row_heading_vi": "Tỉnh/thành phố", "rows": rows,
        "columns": [{"code": c, "label": lab} for c, lab in cols],
        "cells": cells, "row_totals": None, "col_totals": _with_shares(sums), "total": None,
    }  # fmt: skip


def _with_shares(counts: list[int]) -> list[Any]:
    """[communes, a, b, …] → [communes, a, a's share, b, b's share, …]."""
    out: list[Any] = [counts[0]]
    for x in counts[1:]:
        out += [x, _share(x, counts[0])]
    return out


def _shelter_kinds_table(agg: Aggregates) -> dict[str, Any]:
    """Shelters by kind: places, communes with one, capacity, occupancy (people: suppressed
    as a vector whose total is the by-province table's)."""
    kinds = list(SHELTER_KIND_LABELS_VI)
    kinds += sorted({k for _p, k in agg.shelter_kinds} - set(kinds))
    data = [[0, 0, 0, 0] for _ in kinds]
    for (_p, k), values in agg.shelter_kinds.items():
        data[kinds.index(k)] = [a + b for a, b in zip(data[kinds.index(k)], values, strict=True)]
    occ = suppress_vector([d[3] for d in data], fixed_margins=True)
    cells = [[d[0], d[1], d[2], o, _share(o, d[2])]
             for d, o in zip(data, occ.published_values(), strict=True)]  # fmt: skip
    cap = sum(d[2] for d in data)
    total = [sum(d[0] for d in data), sum(d[1] for d in data), cap, occ.published_total(),
             _share(occ.published_total(), cap)]  # fmt: skip
    cols = [("places", "Số nơi"), ("communes", "Số xã có"), ("capacity", "Sức chứa"),
            ("occupancy", "Đang sử dụng"), ("occupancy_share", "Công suất sử dụng (%)")]  # fmt: skip
    return {
        "id": "shelters_by_kind", "kind": "indicator",
        "title_vi": indicator("shelter_occupancy").title_vi + " — theo loại",
        "row_heading_vi": "Loại nơi tạm lánh",
        "rows": [{"code": k, "label": SHELTER_KIND_LABELS_VI.get(k, k)} for k in kinds],
        "columns": [{"code": c, "label": lab} for c, lab in cols],
        "cells": cells, "row_totals": None, "col_totals": total, "total": None,
    }  # fmt: skip


def _training_table(agg: Aggregates, prov_rows: list[tuple[str, str]]) -> dict[str, Any]:
    """Training coverage of the active focal points (people who work for the hotline, not
    people who report: not suppressed)."""
    cells, sums = [], [0, 0, 0]
    for p, _ in prov_rows:
        n, done = agg.training.get(p, (0, 0))
        held = agg.trainings_held.get(p, 0)
        sums = [sums[0] + n, sums[1] + done, sums[2] + held]
        cells.append([n, done, _share(done, n), held])
    n, done, held = sums
    cols = [("focal_points", "Số đầu mối đang hoạt động"),
            ("trained", "Đầu mối đã được tập huấn"), ("trained_share", "Tỷ lệ được tập huấn (%)"),
            ("courses_in_period", "Lượt tập huấn trong kỳ")]  # fmt: skip
    return {
        "id": "training", "kind": "indicator", "title_vi": indicator("training").title_vi,
        "target": indicator("training").target, "row_heading_vi": "Tỉnh/thành phố",
        "rows": [{"code": r, "label": lab} for r, lab in prov_rows],
        "columns": [{"code": c, "label": lab} for c, lab in cols],
        "cells": cells, "row_totals": None, "col_totals": [n, done, _share(done, n), held],
        "total": None,
    }  # fmt: skip


def _communication_table(agg: Aggregates) -> dict[str, Any]:
    """Communication activities held within the period, by kind: how many, people reached."""
    kinds = list(ACTIVITY_KINDS)
    kinds += sorted({k for _p, k in agg.communication} - set(kinds))
    data = {k: [0, 0] for k in kinds}
    for (_p, k), (n, reach) in agg.communication.items():
        data[k][0] += n
        data[k][1] += reach
    return {
        "id": "communication", "kind": "indicator",
        "title_vi": indicator("communication").title_vi, "row_heading_vi": "Loại hoạt động",
        "rows": [{"code": k, "label": ACTIVITY_KINDS.get(k, k)} for k in kinds],
        "columns": [{"code": "activities", "label": "Số hoạt động"},
                    {"code": "reach", "label": "Số lượt người được tiếp cận"}],
        "cells": [data[k] for k in kinds], "row_totals": None,
        "col_totals": [sum(d[0] for d in data.values()), sum(d[1] for d in data.values())],
        "total": None,
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
