"""The public look-up's search: ``service_point_search``'s answer in one statement when it can.

``service_point_search`` (``grids.selectors.search``) runs a statement per tier, each under
its own planner settings inside a transaction, then loads the matches as model instances: fine
for a hotline agent, heavy for the public look-up that a storm's callers hit thousands of
times a minute. Most public look-ups are an address fragment of three or more characters found
in at most ``PROBE_CAP`` addresses; for those, one trigram probe finds every match of the
prefix and the contains tiers at once (a prefix match contains the fragment), so ranking them
is exact, and the caller's columns come back in the same statement; an account number or
phone found exactly takes one statement too (``account_probe``). Everything else (short
numbers, short fragments, common fragments, anything found nowhere) falls back to
``service_point_search`` itself. Either way the matches and their order are the same.

The probe's index condition is at most the middle ``WINDOW`` characters of the fragment: a
GIN trigram scan intersects the posting lists of every trigram it is given, so a long
fragment costs more while a few characters of it already narrow the candidates to a handful;
the whole fragment is then checked on those rows (``strpos``, no pattern escaping needed).
"""

from __future__ import annotations

from dataclasses import dataclass

from grids.address import normalize_identifier, parse_address

from . import address_snapshot
from .search import IDENTIFIER_MIN_LENGTH, PROBE_CAP, PROBE_TRIGRAM, TRIGRAM_MIN_LENGTH

# Characters of a long fragment given to the trigram index (four trigrams).
WINDOW = 6


@dataclass(frozen=True, slots=True)
class MatchProbe:
    """A statement finding the ranked matches of a fragment, for the caller to complete.

    ``sql`` defines the CTEs ``probe`` (at most ``PROBE_CAP + 1`` matches, unranked) and
    ``top`` (the first ``limit`` of them in ``service_point_search``'s order, with its columns
    ``id``, ``address``, ``lat``, ``lng``, ``district_id``, ``rank_prefix``, ``rank_length``,
    ``rank_account``), and ``named`` (one row, ``place_named``: whether a gazetteer place is
    called exactly the fragment, see ``place_named``); the caller appends its ``SELECT``
    from ``top`` (ordered by ``ORDER_BY``) and checks that ``(SELECT count(*) FROM probe)``
    is at most ``PROBE_CAP``: if it is not, the fragment is common and the answer must come
    from the fallback.
    ``settings``: planner settings to apply (``set_config``) before the statement.
    ``keep``: an SQL condition on ``top`` that a match must meet to be answered (checked by
    the caller after the count, so that "found, none kept" and "none found" differ).
    """

    sql: str
    params: list[object]
    settings: dict[str, str]
    keep: str = "true"
    keep_params: tuple[object, ...] = ()


ORDER_BY = 'top.rank_prefix DESC, top.rank_length, top.rank_account COLLATE "C"'
# Accounts and phones: what grids' search orders them by (the database's collation).
ACCOUNT_ORDER_BY = "top.rank_account"


def account_probe(q: str, limit: int) -> MatchProbe | None:
    """The exact tier of ``service_point_search`` for an account number or phone of seven or
    more digits, keeping (``keep``) only the account itself or an address containing the
    number, as the public look-up does; None for anything else. When nothing is found
    (count 0) the caller falls back: grids' search then tries account and phone prefixes."""
    ident = normalize_identifier(q)
    if not ident or len(ident) < IDENTIFIER_MIN_LENGTH:
        return None
    sql = (
        "WITH probe AS MATERIALIZED ("
        " SELECT sp.id, sp.address, sp.lat, sp.lng, sp.district_id, sp.address_norm,"
        " false AS rank_prefix, 0 AS rank_length, sp.account_no AS rank_account"
        " FROM grids_servicepoint sp WHERE sp.account_no = %s OR sp.phone = %s"
        " ORDER BY sp.account_no LIMIT %s"
        "), top AS (SELECT * FROM probe), named AS (SELECT false AS place_named)"
    )
    return MatchProbe(
        sql=sql,
        params=[ident, ident, max(1, min(int(limit), 50))],
        settings={"jit": "off"},
        keep="top.rank_account = %s OR strpos(top.address_norm, %s) > 0",
        keep_params=(ident, ident),
    )


def match_probe(q: str, limit: int) -> MatchProbe | None:
    """The one-statement search of ``q``, or None when ``service_point_search`` must answer
    (an account number or phone, a fragment shorter than three characters, or nothing to
    search for)."""
    if normalize_identifier(q):
        return None
    parsed = parse_address(q)
    fragment = parsed.norm
    if len(fragment) < TRIGRAM_MIN_LENGTH:
        return None
    if len(fragment) > WINDOW:
        start = (len(fragment) - WINDOW) // 2
        window = fragment[start : start + WINDOW]
    else:
        window = fragment
    pattern = "%" + window.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    district = ""
    params: list[object] = [fragment, pattern, fragment]
    if parsed.district:
        district = " AND sp.district_id IN (SELECT d.id FROM grids_district d WHERE d.name = %s)"
        params.append(parsed.district)
    params.append(PROBE_CAP + 1)
    params.append(max(1, min(int(limit), 50)))
    sql = (
        "WITH probe AS MATERIALIZED ("  # noqa: S608
        " SELECT sp.id, sp.address, sp.lat, sp.lng, sp.district_id, sp.account_no,"
        " length(sp.address_norm) AS norm_length,"
        " starts_with(sp.address_norm, %s) AS is_prefix"
        " FROM grids_servicepoint sp"
        " WHERE sp.address_norm LIKE %s AND strpos(sp.address_norm, %s) > 0" + district + ""
        " LIMIT %s"
        "), top AS ("
        " SELECT id, address, lat, lng, district_id, is_prefix AS rank_prefix,"
        " norm_length AS rank_length, account_no AS rank_account FROM probe"
        ' ORDER BY is_prefix DESC, norm_length, account_no COLLATE "C" LIMIT %s'
        "), named AS ("
        " SELECT EXISTS (SELECT 1 FROM grids_place pl WHERE pl.name = %s) AS place_named"
        ")"
    )
    params.append(fragment)
    return MatchProbe(sql=sql, params=params, settings=PROBE_TRIGRAM)


@dataclass(frozen=True, slots=True)
class IndexedMatches:
    """``match_probe``'s matches found in the process's address index (``address_snapshot``):
    ``count`` of them (at most ``PROBE_CAP + 1``), the ids of the first ``limit`` in
    ``service_point_search``'s order (none when the count is over ``PROBE_CAP``), and the
    index's ``version``, which the caller compares with the database's (``VERSION_SQL``) in
    the statement that reads the matches."""

    count: int
    ids: list[int]
    version: int
    fragment: str


VERSION_SQL = address_snapshot.VERSION_SQL


def indexed_matches(q: str, limit: int) -> IndexedMatches | None:
    """``match_probe``'s search of ``q`` in process memory; None when there is no index (see
    ``address_snapshot.current``) or ``match_probe`` would not answer ``q``."""
    snapshot = address_snapshot.current()
    if snapshot is None or normalize_identifier(q):
        return None
    parsed = parse_address(q)
    fragment = parsed.norm
    if len(fragment) < TRIGRAM_MIN_LENGTH:
        return None
    districts = snapshot.districts.get(parsed.district, frozenset()) if parsed.district else None
    count, top = snapshot.index.search(
        fragment, limit=max(1, min(int(limit), 50)), cap=PROBE_CAP, districts=districts
    )
    return IndexedMatches(count, [m.id for m in top], snapshot.version, fragment)


def index_outdated(seen: int | None) -> None:
    """The database's address version is ``seen``, not the index's: rebuild it."""
    address_snapshot.outdated(seen)


def settings_sql(settings: dict[str, str]) -> tuple[str, list[str]]:
    """``SELECT set_config(...)`` of ``settings`` (transaction-local)."""
    calls = ", ".join("set_config(%s, %s, true)" for _ in settings)
    return f"SELECT {calls}", [item for pair in settings.items() for item in pair]
