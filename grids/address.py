"""Normalisation of Chinese street addresses for search. Pure Python, no ORM.

Stored addresses look like ``深圳市福田区华富街道深南中路1003号荔枝苑3栋1204``; callers type
fragments of them in every possible way: full-width digits from a Chinese IME, spaces, commas,
with or without ``广东省深圳市`` and the district. Both sides go through ``normalize_address``,
so a fragment of what a person types is a substring of ``ServicePoint.address_norm``:

- NFKC (full-width letters, digits and punctuation become their half-width forms);
- ASCII letters upper-cased (``a座`` and ``A座`` are the same building);
- whitespace, control characters and punctuation removed, except ``-`` and ``#`` which carry
  meaning in house numbers (``3-1204``, ``#2``); every dash variant becomes ``-``;
- leading ``中国``, ``广东省`` / ``广东``, ``深圳市`` / ``深圳`` and one district prefix removed.

A district's full name (``福田区``, ``大鹏新区``) is always a district. Its short form
(``福田``) and the short city name (``深圳``) are also the first half of many proper names
(``福田街道``, ``宝安大道``, ``深圳湾``, ``深圳北站``), so a short form is only taken as a
prefix when what follows does not continue such a name.
"""

import functools
import re
import unicodedata
from typing import NamedTuple

# Full name -> short form. 大鹏新区 is a functional area, written like a district in addresses.
DISTRICT_NAMES: dict[str, str] = {
    "罗湖区": "罗湖",
    "福田区": "福田",
    "南山区": "南山",
    "宝安区": "宝安",
    "龙岗区": "龙岗",
    "大鹏新区": "大鹏",
    "盐田区": "盐田",
    "龙华区": "龙华",
    "坪山区": "坪山",
    "光明区": "光明",
}

_COUNTRY = ("中国",)
_PROVINCE_FULL = ("广东省",)
_PROVINCE_SHORT = "广东"
_CITY_FULL = ("深圳市",)
_CITY_SHORT = "深圳"

# What may follow a short place name when the two together are one proper name: a sub-district,
# a road, a village, a landmark. After one of these the short form is *not* a prefix to strip.
_NAME_CONTINUATIONS: tuple[str, ...] = (
    "街道",
    "大道",
    "大街",
    "大学",
    "大厦",
    "路",
    "街",
    "道",
    "村",
    "新村",
    "社区",
    "花园",
    "公园",
    "中心",
    "广场",
    "站",
    "口岸",
    "湾",
    "湖",
    "河",
    "桥",
    "镇",
    "港",
    "墟",
    "市场",
    "医院",
    "中学",
    "小学",
    "学校",
    "体育",
    "水库",
    "国际",
    "机场",
    # 宝安北路, 深圳北站, 龙华西门: a compass point then a road, station or gate.
    *(d + tail for d in "东南西北中" for tail in ("路", "街", "大道", "站", "门", "环")),
)

_DASHES = dict.fromkeys(map(ord, "‐‑‒–—―−﹣－ー"), "-")
_KEEP_PUNCTUATION = frozenset("-#")
_ASCII_LOWER = re.compile(r"[a-z]+")


class ParsedAddress(NamedTuple):
    """A normalised address (or query) and the district its prefix named, if any."""

    norm: str
    district: str | None


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        # Z*: separators (spaces), C*: control/format (zero-width spaces from copy-paste),
        # P*/S*: punctuation and symbols such as ，。、()《》·.
        if cat[0] in "ZC":
            continue
        if cat[0] in "PS" and ch not in _KEEP_PUNCTUATION:
            continue
        kept.append(ch)
    return _ASCII_LOWER.sub(lambda m: m.group(0).upper(), "".join(kept))


def _is_name_start(rest: str) -> bool:
    return rest.startswith(_NAME_CONTINUATIONS)


def _strip_one(text: str, full: tuple[str, ...], short: str | None = None) -> str:
    for name in full:
        if text.startswith(name):
            return text[len(name) :]
    if short and text.startswith(short):
        rest = text[len(short) :]
        if rest and not _is_name_start(rest):
            return rest
    return text


@functools.lru_cache(maxsize=4096)
def parse_address(text: str) -> ParsedAddress:
    """Normalise ``text`` and report the district its prefix names (kept for the last few
    thousand texts: a look-up parses its query more than once).

    The district is only reported when it was written as a prefix (after the optional country,
    province and city); a district name further inside the text is left alone.
    """
    norm = _clean(text)
    norm = _strip_one(norm, _COUNTRY)
    norm = _strip_one(norm, _PROVINCE_FULL, _PROVINCE_SHORT)
    norm = _strip_one(norm, _CITY_FULL, _CITY_SHORT)
    for full in DISTRICT_NAMES:
        if norm.startswith(full):
            return ParsedAddress(norm[len(full) :], full)
    for full, short in DISTRICT_NAMES.items():
        if norm.startswith(short):
            rest = norm[len(short) :]
            # "福田" alone is more likely the start of 福田街道 or 福田路 than a district filter.
            if rest and not _is_name_start(rest):
                return ParsedAddress(rest, full)
    return ParsedAddress(norm, None)


def normalize_address(text: str) -> str:
    """The normalised form stored in ``ServicePoint.address_norm`` and used for queries."""
    return parse_address(text).norm


def normalize_identifier(text: str) -> str | None:
    """Digits of an account number or phone typed with spaces, dashes or ``+86``; else None.

    Returns None when ``text`` holds anything but digits and separators.
    """
    cleaned = unicodedata.normalize("NFKC", text).translate(_DASHES)
    cleaned = re.sub(r"[\s\-()]", "", cleaned)
    if cleaned.startswith("+86"):
        cleaned = cleaned[3:]
    if not cleaned.isascii() or not cleaned.isdigit():
        return None
    if len(cleaned) == 13 and cleaned.startswith("861"):
        cleaned = cleaned[2:]  # 86 13812345678 written without the plus sign
    return cleaned
