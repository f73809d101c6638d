"""The 54 ethnic groups of Vietnam with their official codes, and who is offered which.

Codes are the General Statistics Office's (Tổng cục Thống kê) list of ethnic groups, from
Decision 121-TCTK-PPCĐ of 2 March 1979 ("Danh mục các thành phần dân tộc Việt Nam"), the
numbering the censuses and the provinces' plans still report by: Kinh 01 … Rơ Măm 54.

Each group's name is a message id (``eth.<slug>``): the Vietnamese and English names live in
the catalogs, once. A typed name is matched against those names and a few other spellings
(``ALIASES``), folded by :func:`dialogs.text.fold` with spaces dropped, so "M'nông",
"mnong" and "Mnông" are one. Only the code leaves the conversation (as ``ethnic_code``),
and only when she agreed to be counted (:mod:`dialogs.report`).

A screen shows the groups of her province first (``SHORTLISTS``, from the provinces'
plans), then "another group" (she types it) and "prefer not to say". Pure data, no I/O.
"""

from __future__ import annotations

from functools import cache

from dialogs.i18n import N_, translator
from dialogs.text import fold

# (GSO code, option code, message id). The option code is a short ASCII slug: it is what a
# button carries and what a draft stores; the GSO code is what statistics carry.
GROUPS: tuple[tuple[str, str, str], ...] = (
    ("01", "kinh", N_("eth.kinh")),
    ("02", "tay", N_("eth.tay")),
    ("03", "thai", N_("eth.thai")),
    ("04", "hoa", N_("eth.hoa")),
    ("05", "khmer", N_("eth.khmer")),
    ("06", "muong", N_("eth.muong")),
    ("07", "nung", N_("eth.nung")),
    ("08", "hmong", N_("eth.hmong")),
    ("09", "dao", N_("eth.dao")),
    ("10", "jrai", N_("eth.jrai")),
    ("11", "ngai", N_("eth.ngai")),
    ("12", "ede", N_("eth.ede")),
    ("13", "bahnar", N_("eth.bahnar")),
    ("14", "sedang", N_("eth.sedang")),
    ("15", "sanchay", N_("eth.sanchay")),
    ("16", "coho", N_("eth.coho")),
    ("17", "cham", N_("eth.cham")),
    ("18", "sandiu", N_("eth.sandiu")),
    ("19", "hre", N_("eth.hre")),
    ("20", "mnong", N_("eth.mnong")),
    ("21", "raglai", N_("eth.raglai")),
    ("22", "stieng", N_("eth.stieng")),
    ("23", "bru", N_("eth.bru")),
    ("24", "tho", N_("eth.tho")),
    ("25", "giay", N_("eth.giay")),
    ("26", "cotu", N_("eth.cotu")),
    ("27", "gietrieng", N_("eth.gietrieng")),
    ("28", "ma", N_("eth.ma")),
    ("29", "khmu", N_("eth.khmu")),
    ("30", "co", N_("eth.co")),
    ("31", "taoi", N_("eth.taoi")),
    ("32", "choro", N_("eth.choro")),
    ("33", "khang", N_("eth.khang")),
    ("34", "xinhmun", N_("eth.xinhmun")),
    ("35", "hanhi", N_("eth.hanhi")),
    ("36", "churu", N_("eth.churu")),
    ("37", "lao", N_("eth.lao")),
    ("38", "lachi", N_("eth.lachi")),
    ("39", "laha", N_("eth.laha")),
    ("40", "phula", N_("eth.phula")),
    ("41", "lahu", N_("eth.lahu")),
    ("42", "lu", N_("eth.lu")),
    ("43", "lolo", N_("eth.lolo")),
    ("44", "chut", N_("eth.chut")),
    ("45", "mang", N_("eth.mang")),
    ("46", "pathen", N_("eth.pathen")),
    ("47", "colao", N_("eth.colao")),
    ("48", "cong", N_("eth.cong")),
    ("49", "boy", N_("eth.boy")),
    ("50", "sila", N_("eth.sila")),
    ("51", "pupeo", N_("eth.pupeo")),
    ("52", "brau", N_("eth.brau")),
    ("53", "odu", N_("eth.odu")),
    ("54", "romam", N_("eth.romam")),
)
OTHER = "other"  # "another group": she types its name
PREFER_NOT = "pns"  # "prefer not to say"

GSO_CODE: dict[str, str] = {slug: code for code, slug, _label in GROUPS}
LABEL: dict[str, str] = {slug: label for _code, slug, label in GROUPS}

# Other spellings people type (the catalog names are matched too), folded without spaces.
ALIASES: dict[str, tuple[str, ...]] = {
    "kinh": ("viet", "nguoiviet"),
    "khmer": ("khome", "khmerkrom"),
    "hmong": ("mong", "hmong", "hmongz"),
    "jrai": ("giarai", "jarai", "jrai"),
    "ede": ("ede", "rhade", "rade"),
    "bahnar": ("bana", "bahnar"),
    "sedang": ("xodang", "sedang"),
    "coho": ("koho", "kho", "coho"),
    "mnong": ("mnong", "menong"),
    "stieng": ("xtieng", "stieng"),
    "bru": ("bruvankieu", "vankieu", "bru"),
    "khmu": ("khomu", "khmu"),
    "raglai": ("raglai", "roglai"),
    "taoi": ("taoi", "taoih"),
    "churu": ("churu",),
    "hoa": ("nguoihoa", "han"),
}

# The groups a province's plan names, most reports first (the rest: "another group").
# Keys are folded province names; a name ending in one ("tinh dak lak") matches it.
SHORTLISTS: dict[str, tuple[str, ...]] = {
    "dak lak": ("kinh", "ede", "jrai", "mnong", "bahnar", "tay", "nung", "hmong", "dao"),
    "ninh binh": ("kinh", "muong"),
    "ha noi": ("kinh", "muong", "dao"),
    "dak nong": ("kinh", "mnong", "ede", "hmong", "tay", "nung"),
    # Đắk Nông has been part of Lâm Đồng since 2025: its groups, and Lâm Đồng's own.
    "lam dong": ("kinh", "coho", "mnong", "ma", "churu", "ede", "hmong", "tay", "nung"),
}
# No province known: the largest groups nationally, and the pilot provinces' own.
DEFAULT_SHORTLIST: tuple[str, ...] = (
    "kinh",
    "tay",
    "thai",
    "muong",
    "khmer",
    "hmong",
    "nung",
    "dao",
    "ede",
    "jrai",
)
_TYPED_PREFIXES = ("toi la ", "nguoi ", "dan toc ", "toc ")


def _key(text: str) -> str:
    return fold(text).replace(" ", "")


def shortlist(province_name: str | None) -> tuple[str, ...]:
    """The groups offered first to someone in ``province_name`` (a name, as shown)."""
    folded = fold(province_name or "")
    for name, groups in SHORTLISTS.items():
        if folded == name or folded.endswith(" " + name):
            return groups
    return DEFAULT_SHORTLIST


def shown_for(answers: dict) -> tuple[str, ...]:
    """The option codes a draft's ethnic-group screen shows: her province's groups first."""
    place = answers.get("place") if isinstance(answers, dict) else None
    prov = place.get("prov") if isinstance(place, dict) else None
    return (*shortlist(prov if isinstance(prov, str) else None), OTHER, PREFER_NOT)


@cache
def _names() -> dict[str, str]:
    """Folded name or alias -> option code, from the Vietnamese and English catalogs."""
    out: dict[str, str] = {}
    for lang in ("vi", "en"):
        tr = translator(lang)
        for _code, slug, label in GROUPS:
            name = tr.gettext(label)
            out.setdefault(_key(name), slug)
            # "Gia Rai (Jrai)": each part is a name too
            for part in name.replace(")", "").split("("):
                if part.strip():
                    out.setdefault(_key(part), slug)
    for slug, aliases in ALIASES.items():
        for alias in aliases:
            out.setdefault(alias, slug)
    return out


def match(text: str) -> str | None:
    """The option code of the group a typed name means, or None (nothing is kept of it)."""
    if len(text) > 60:
        return None
    folded = fold(text)
    for prefix in _TYPED_PREFIXES:
        if folded.startswith(prefix):
            folded = folded[len(prefix) :]
    key = folded.replace(" ", "")
    if len(key) < 2:
        return None
    return _names().get(key)


def gso_code(option_code: str | None) -> str | None:
    """The GSO code ("01".."54") of a stored answer; None for another, unnamed group,
    "prefer not to say", or no answer."""
    return GSO_CODE.get(option_code) if isinstance(option_code, str) else None
