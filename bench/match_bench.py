"""Benchmark: nearest-match queries/s and commune-name searches/s on one core.

Builds a synthetic national directory (10 focal points per commune ≈ 33,000, 3 shelters
per commune ≈ 10,000) with deterministic random coordinates inside Vietnam's mainland
box, clustered by province and commune, then times:

* ``match_focal_point(location=…)``  (goal ≥ 50,000/s)
* ``match_shelter(location=…)``      (goal ≥ 50,000/s)
* ``match_focal_point(commune_code=…)`` (ladder; reported, same goal)
* ``CommuneIndex.search(…)`` over all 3,321 communes (goal ≥ 5,000/s)

Rates are per CPU second of this single-threaded process (one core).
Run: ``python bench/match_bench.py [--seconds 2] [--seed 7]``.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from routing.directory import Directory, FocalPoint, Role, Shelter, ShelterKind
from routing.duty import parse_duty_hours
from routing.geo import in_vietnam
from routing.matching import ShelterNeeds, match_focal_point, match_shelter
from routing.places import Commune, load_places
from routing.search import commune_index

MATCH_GOAL = 50_000
SEARCH_GOAL = 5_000

_ROLES = (
    [Role.PRIMARY] * 3 + [Role.BACKUP] * 3 + [Role.COMMUNE_LEADERSHIP] * 2 + [Role.POLICE_DESK] * 2
)
_HOURS = [
    parse_duty_hours(h)
    for h in (
        "Mon-Fri 07:30-17:00",
        "Mon-Sat 07:00-11:30,13:30-17:00",
        "Sat 08:00-12:00; Mon-Fri 07:30-17:00",
        "Mon-Fri 07:00-11:30,13:00-16:30",
        "24/7",
    )
]
_LANGS = [
    frozenset({"vi"}),
    frozenset({"vi", "rad"}),
    frozenset({"vi", "jra"}),
    frozenset({"vi", "mng"}),
]


def _point(rng: random.Random, lat: float, lon: float, spread: float) -> tuple[float, float]:
    while True:
        p = (rng.gauss(lat, spread), rng.gauss(lon, spread))
        if in_vietnam(*p) and 8.6 <= p[0] <= 23.3 and 102.2 <= p[1] <= 109.4:
            return p


def build_directory(seed: int = 7, per_commune: int = 10, shelters: int = 3) -> Directory:
    """A deterministic synthetic national directory."""
    rng = random.Random(seed)
    places = load_places()
    fps: list[FocalPoint] = []
    shs: list[Shelter] = []
    for province in places.provinces:
        plat, plon = _point(rng, 15.8, 106.0, 3.0)
        communes: tuple[Commune, ...] = places.communes_in(province.code)
        desk_lat, desk_lon = _point(rng, plat, plon, 0.05)
        fps.append(
            FocalPoint(
                f"desk-{province.code.code}", communes[0].code, province.code,
                Role.PROVINCE_DESK, f"Province desk {province.name}", "+84200000000",
                frozenset({"vi"}), parse_duty_hours("24/7"), desk_lat, desk_lon,
            )
        )  # fmt: skip
        for c in communes:
            clat, clon = _point(rng, plat, plon, 0.35)
            for i in range(per_commune):
                lat, lon = _point(rng, clat, clon, 0.03)
                fps.append(
                    FocalPoint(
                        f"fp-{c.code.code}-{i}", c.code, province.code, _ROLES[i % len(_ROLES)],
                        f"Focal {c.code.code}/{i}", "+84200000001", rng.choice(_LANGS),
                        rng.choice(_HOURS), lat, lon,
                    )
                )  # fmt: skip
            for i in range(shelters):
                lat, lon = _point(rng, clat, clon, 0.04)
                cap = rng.randint(2, 20)
                shs.append(
                    Shelter(
                        f"sh-{c.code.code}-{i}", c.code, province.code, f"Shelter {c.code.code}/{i}",
                        list(ShelterKind)[i % 4], lat, lon, cap, rng.randint(0, cap),
                        rng.random() < 0.6, rng.random() < 0.4, rng.choice(_LANGS),
                    )
                )  # fmt: skip
    return Directory(fps, shs, places=places)


def rate(fn: Callable[[int], object], n_inputs: int, seconds: float) -> float:
    """Calls per CPU second of ``fn(i)``, cycling over ``n_inputs`` inputs for ~``seconds``.

    CPU time of this (single-threaded) process, so the figure is per core and is not
    skewed by other processes sharing the machine.
    """
    done = 0
    start = time.process_time()
    deadline = start + seconds
    while True:
        for i in range(1000):
            fn((done + i) % n_inputs)
        done += 1000
        now = time.process_time()
        if now >= deadline:
            return done / (now - start)


def once(fn: Callable[[int], object], n_inputs: int) -> float:
    """Calls per CPU second of one pass of ``fn(i)`` over ``n_inputs`` inputs."""
    start = time.process_time()
    for i in range(n_inputs):
        fn(i)
    return n_inputs / (time.process_time() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    directory = build_directory(args.seed)
    build_s = time.perf_counter() - t0
    print(
        f"directory: {len(directory.focal_points):,} focal points, "
        f"{len(directory.shelters):,} shelters, built in {build_s:.2f} s"
    )
    rng = random.Random(args.seed + 1)
    # Queries near random offices (people live near offices), at varied times of the week.
    locs = []
    for _ in range(5000):
        fp = rng.choice(directory.focal_points)
        locs.append((fp.lat + rng.gauss(0, 0.05), fp.lon + rng.gauss(0, 0.05)))
    base = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # a Monday
    nows = [base + timedelta(minutes=rng.randrange(7 * 24 * 60)) for _ in range(5000)]
    langs = [rng.choice([None, "vi", "rad", "jra", "mng"]) for _ in range(5000)]
    needs = [
        ShelterNeeds(rng.random() < 0.3, rng.random() < 0.2, rng.choice([None, "rad"]))
        for _ in range(5000)
    ]
    communes = [c.code for c in directory.places.communes]
    ccodes = [rng.choice(communes) for _ in range(5000)]

    def fp_by_location(i: int) -> object:
        return match_focal_point(directory, location=locs[i], language=langs[i], now=nows[i])

    def shelter_by_location(i: int) -> object:
        return match_shelter(directory, location=locs[i], needs=needs[i])

    def fp_by_commune(i: int) -> object:
        return match_focal_point(directory, commune_code=ccodes[i], language=langs[i], now=nows[i])

    # Cold: the first query from each ~1.1 km cell builds that cell's candidate list.
    cold = {
        "match_focal_point(location)": once(fp_by_location, len(locs)),
        "match_shelter(location)": once(shelter_by_location, len(locs)),
    }
    # Warm: steady state of a running process (candidate lists of those cells exist).
    figures = {
        "match_focal_point(location)": rate(fp_by_location, len(locs), args.seconds),
        "match_shelter(location)": rate(shelter_by_location, len(locs), args.seconds),
        "match_focal_point(commune)": rate(fp_by_commune, len(ccodes), args.seconds),
    }
    for label, value in cold.items():
        print(f"{label + ' cold':32s} {value:>10,.0f} /s  (first query per cell; not a goal)")
    index = commune_index()
    queries = [
        "buon ma thuot", "Buôn Ma Thuột", "Buon Ma Thuat", "ea kar", "Krong Pac",
        "tan lap", "phu hoa", "xuan phuong", "hoa binh", "Ea Kar, Đắk Lắk",
        "nguyen trai", "Hòa Phú", "cu mgar", "lien son lak", "xa tinh khe",
    ]  # fmt: skip
    # plus each commune's own name, typo'd by dropping a letter
    trng = random.Random(args.seed + 2)
    for c in trng.sample(directory.places.communes, 200):
        name = c.name.split(" ", 1)[1]
        cut = trng.randrange(len(name))
        queries.append(name[:cut] + name[cut + 1 :])
    search_rate = rate(lambda i: index.search(queries[i]), len(queries), args.seconds)

    ok = True
    for label, value in figures.items():
        met = value >= MATCH_GOAL
        ok &= met
        print(f"{label:32s} {value:>10,.0f} /s  goal {MATCH_GOAL:,}: {'met' if met else 'NOT met'}")
    met = search_rate >= SEARCH_GOAL
    ok &= met
    print(
        f"{'commune search':32s} {search_rate:>10,.0f} /s  goal {SEARCH_GOAL:,}: "
        f"{'met' if met else 'NOT met'}"
    )
    print("all goals met" if ok else "some goals NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
