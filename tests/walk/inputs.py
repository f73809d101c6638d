"""What the walker types, where it shares a location from, and its seeded random driver."""

from __future__ import annotations

import random

from tests.walk.model import Walk

TEXTS = [
    "Chồng tôi đánh tôi tối qua, tôi sợ về nhà.",
    "Anh ấy bóp cổ tôi… không dám về nhà",
    "Tôi đang gặp nguy hiểm",
    "buon ma thuot",
    "Buôn Ma Thuột",
    "Phường Tân Lập",
    "ea kar",
    "Xã Ea Kar, Đắk Lắk",
    "Krông Pắc",
    "Tuy Hòa",
    "Hà Nội",
    "Ba Đình",  # a commune of a province with no focal point in the demo directory
    "hoi an",
    "ƀuôn čư ñu ơ̆ ư̆",
    "bỏ qua",
    "Bỏ qua",
    "skip",
    "Xong",
    "done",
    "có",
    "không",
    "yes",
    "1",
    "2",
    "3",
    "9",
    "0",
    "12",
    "0912 345 678",
    "+84 912 345 678",
    "091234",
    "1234 5678 9012 3456",
    "😀🙏🏽",
    "🏳️‍🌈 💔",
    "你好",
    "\u202eevil",
    " ",
    ".",
    "?",
    "xin đừng gọi điện",
    "/menu",
    "thoát",
    "a" * 3000,
    "Tôi bị đánh. " * 400,
]
VI = "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
ALPHABET = VI + VI.upper() + "0123456789 .,!?-\n😀🙏🏽\u0306\u0301ƀčñ"
PLACES = [
    (12.6675, 108.0378),  # Buôn Ma Thuột
    (12.8118, 108.45),  # Ea Kar
    (13.0955, 109.3),  # Tuy Hòa
    (12.4073, 108.2),  # Lắk
    (21.0285, 105.8542),  # Hà Nội: no focal point in the province
    (10.0, 115.0),  # the sea
    (0.0, 0.0),
    (-89.9, 179.9),
]
COMMANDS = [("start", None), ("start", "en"), ("help", None), ("language", None), ("delete", None)]
LANGS = [None, "vi", "en", "rad", "jra", "km"]
FOCAL = ["ack", "reply", "close"]


def random_text(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.6:
        return rng.choice(TEXTS)
    if r < 0.9:
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(1, 80)))
    return str(rng.randrange(-5, 10 ** rng.randrange(1, 20)))


def random_step(walk: Walk, rng: random.Random, focus: float = 0.55) -> None:
    """One thing a person (rarely, their focal point) does: with probability ``focus``
    press what the current prompt offers, else anything else."""
    if not walk.started or (walk.exited and rng.random() < 0.5):
        return walk.start(rng.choice(LANGS))
    if rng.random() < focus:
        return walk.press(rng.randrange(64), local=rng.random() < 0.95)
    r = rng.random()
    if r < 0.10:
        walk.press(rng.randrange(64), stale=True, local=False)
    elif r < 0.42:
        walk.type(random_text(rng))
    elif r < 0.51:
        walk.location(*rng.choice(PLACES))
    elif r < 0.60:
        walk.command(*rng.choice(COMMANDS))
    elif r < 0.65:
        walk.quick_exit()
    elif r < 0.82:
        walk.follow_up(rng.randrange(8), rng.randrange(3))
    else:
        walk.focal(rng.choice(FOCAL))


def random_walk(walk: Walk, seed: int, steps: int) -> None:
    """A walk of ``steps`` steps; how much it sticks to the offered options is drawn from
    the seed too (people in a hurry press on; others wander)."""
    rng = random.Random(seed)
    focus = rng.choice([0.5, 0.75, 0.9])
    for _ in range(steps):
        random_step(walk, rng, focus)
