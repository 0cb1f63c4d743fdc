"""Finding a customer's service point from what a caller says: account, phone or address."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.lookups import TrigramWordSimilar
from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import OperationalError, connection, transaction
from django.db.backends.postgresql.psycopg_any import is_psycopg3
from django.db.backends.utils import CursorWrapper
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Length

from grids.address import normalize_identifier, parse_address
from grids.models import District, ServicePoint

MAX_LIMIT = 50
# Trigram indexes need three characters; shorter fragments use the ordered-scan fallback.
TRIGRAM_MIN_LENGTH = 3
# Digits-only input this long is an account number or a phone, never part of an address.
IDENTIFIER_MIN_LENGTH = 7

WORD_SIMILARITY_THRESHOLD = 0.4
# Matches read through the trigram index before a fragment counts as common (see below).
PROBE_CAP = 1000
# Time allowed for the ordered index walk before the probed sample is used instead.
WALK_BUDGET_MS = 15
# Time allowed for the similarity fallback (nothing contains the fragment) before giving up.
SIMILARITY_BUDGET_MS = 30

SCORE_EXACT = 1.0
SCORE_IDENTIFIER_PREFIX = 0.9

# Planner settings for each kind of statement. Every statement sets all of them, so none
# depends on what ran before it in the transaction. JIT is off: it compiles for ~10-50 ms
# whenever the estimated cost is high, which the estimates for these queries often are.
PROBE_PREFIX = {"enable_seqscan": "off", "enable_indexscan": "on", "enable_bitmapscan": "on",
                "jit": "off"}  # fmt: skip
PROBE_TRIGRAM = {"enable_seqscan": "off", "enable_indexscan": "off", "enable_bitmapscan": "on",
                 "jit": "off"}  # fmt: skip
WALK = {"enable_seqscan": "off", "enable_indexscan": "on", "enable_bitmapscan": "off",
        "jit": "off"}  # fmt: skip
ANY_PLAN = {"enable_seqscan": "on", "enable_indexscan": "on", "enable_bitmapscan": "on",
            "jit": "off"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A service point found by ``service_point_search`` and how well it matched (0..1)."""

    service_point: ServicePoint
    score: float


def _prefix_score(fragment: str, norm_length: int) -> float:
    # 0.7..0.9: above any non-prefix match; the shorter the address, the better the match.
    return 0.7 + 0.2 * min(len(fragment) / max(norm_length, 1), 1.0)


def _contains_score(fragment: str, norm_length: int) -> float:
    # 0.4..0.7: below every prefix match, above every similarity-only match.
    return 0.4 + 0.3 * min(len(fragment) / max(norm_length, 1), 1.0)


def _similarity_score(similarity: float) -> float:
    return 0.4 * max(0.0, min(similarity, 1.0))


def service_point_search(*, q: str, limit: int = 10) -> list[SearchHit]:
    """Service points matching ``q``, best first, at most ``limit`` (1..50).

    Ranking: an exact account number or phone (score 1.0); for a long number matching none,
    accounts and phones starting with it (0.9); then addresses whose normalised form (see
    ``grids.address``) starts with the fragment (0.7-0.9), then those containing it
    (0.4-0.7), each shorter address first, ties by account; then, on PostgreSQL and only when
    no address contains the fragment, the addresses most alike by trigram word similarity
    (below 0.4). A district written as the prefix of ``q`` narrows the address matches to it.

    Read-only. A bounded number of statements whatever the number of matches; on PostgreSQL
    each tier is index-backed and time-boxed (see ``_top`` and migration 0002 of grids).
    """
    limit = max(1, min(int(limit), MAX_LIMIT))
    found: dict[int, float] = {}

    ident = normalize_identifier(q)
    if ident and len(ident) >= 5:
        exact = ServicePoint.objects.filter(Q(account_no=ident) | Q(phone=ident))
        for pk in exact.order_by("account_no").values_list("pk", flat=True)[:limit]:
            found[pk] = SCORE_EXACT
        if len(ident) >= IDENTIFIER_MIN_LENGTH:
            if not found:
                partial = (
                    ServicePoint.objects.filter(
                        Q(account_no__startswith=ident) | Q(phone__startswith=ident)
                    )
                    .order_by("account_no")
                    .values_list("pk", flat=True)[:limit]
                )
                for pk in partial:
                    found[pk] = SCORE_IDENTIFIER_PREFIX
            return _load(found)

    parsed = parse_address(q)
    fragment = parsed.norm
    if not fragment or len(found) >= limit:
        return _load(found)
    base = ServicePoint.objects.all()
    if parsed.district:
        district_ids = list(
            District.objects.filter(name=parsed.district).values_list("pk", flat=True)
        )
        if not district_ids:
            # A district this city does not have: nothing can match (and an empty IN list
            # would make the raw-SQL paths below fail).
            return _load(found)
        base = base.filter(district_id__in=district_ids)
    _address_matches(base, fragment, found, limit)
    return _load(found)


def _address_matches(
    base: QuerySet[ServicePoint], fragment: str, found: dict[int, float], limit: int
) -> None:
    """Add prefix, substring and (PostgreSQL) similarity matches of ``fragment`` to ``found``."""
    ranked = base.annotate(norm_length=Length("address_norm")).order_by("norm_length", "account_no")
    if connection.vendor == "postgresql":
        _address_matches_postgres(ranked, base, fragment, found, limit)
        return
    # Elsewhere (the SQLite demo): LIKE, prefix matches first, no similarity.
    prefix = ranked.filter(address_norm__startswith=fragment).exclude(pk__in=list(found))
    for pk, n in prefix.values_list("pk", "norm_length")[: limit - len(found)]:
        found[pk] = _prefix_score(fragment, n)
    inner = (
        ranked.filter(address_norm__contains=fragment)
        .exclude(address_norm__startswith=fragment)
        .exclude(pk__in=list(found))
    )
    for pk, n in inner.values_list("pk", "norm_length")[: max(limit - len(found), 0)]:
        found[pk] = _contains_score(fragment, n)


def _address_matches_postgres(
    ranked: QuerySet[ServicePoint],
    base: QuerySet[ServicePoint],
    fragment: str,
    found: dict[int, float],
    limit: int,
) -> None:
    """The PostgreSQL tiers: prefix, then contains, then (nothing found) similarity."""
    before = len(found)
    with transaction.atomic(), connection.cursor() as cursor:
        prefix = ranked.filter(address_norm__startswith=fragment).exclude(pk__in=list(found))
        for pk, n in _top(cursor, prefix, limit - len(found), PROBE_PREFIX):
            found[pk] = _prefix_score(fragment, n)
        if len(found) < limit:
            inner = (
                ranked.filter(address_norm__contains=fragment)  # LIKE '%fragment%'
                .exclude(address_norm__startswith=fragment)
                .exclude(pk__in=list(found))
            )
            # No trigram in a fragment shorter than three characters: nothing to probe with.
            probe = PROBE_TRIGRAM if len(fragment) >= TRIGRAM_MIN_LENGTH else None
            for pk, n in _top(cursor, inner, limit - len(found), probe):
                found[pk] = _contains_score(fragment, n)
        if len(found) == before and len(fragment) >= TRIGRAM_MIN_LENGTH:
            _similar(cursor, base, fragment, found, limit)


def _top(
    cursor: CursorWrapper,
    qs: QuerySet[Any],  # annotated with norm_length
    want: int,
    probe: dict[str, str] | None,
) -> list[tuple[int, int]]:
    """The first ``want`` (pk, address length) of ``qs`` in rank order (length, account).

    PostgreSQL keeps no statistics on substrings, so the planner cannot tell a fragment found
    in half the city from one found in three addresses, and a wrong guess costs hundreds of
    milliseconds at a million rows either way: fetching every match through an index to sort
    them is slow when the fragment is common; walking the (length, account) index in rank
    order and stopping after ``want`` matches is slow when it is rare, or when its matches are
    all long addresses. So we measure instead of guessing. A probe through the index named by
    ``probe`` reads at most ``PROBE_CAP`` matches; if that is all of them they are ranked here.
    Otherwise the fragment is common and the ordered walk usually ends at once; if it does not
    within ``WALK_BUDGET_MS``, the best of the probed matches are returned (ranked among the
    first ``PROBE_CAP`` matches rather than all of them). With no probe and no time left, the
    first matches found are returned. Runs inside the caller's transaction.
    """
    if want <= 0:
        return []
    sample: list[tuple[int, int, str]] = []
    if probe is not None:
        unranked = qs.order_by().values_list("pk", "norm_length", "account_no")
        sample = _fetch(cursor, unranked[: PROBE_CAP + 1], probe)
        sample.sort(key=lambda row: (row[1], row[2]))
        if len(sample) <= PROBE_CAP:
            return [(pk, n) for pk, n, _ in sample[:want]]
    rows = _within_budget(cursor, qs.values_list("pk", "norm_length")[:want], WALK_BUDGET_MS, WALK)
    if rows is not None:
        return rows
    if sample:
        return [(pk, n) for pk, n, _ in sample[:want]]
    unordered = qs.order_by().values_list("pk", "norm_length")[:want]
    return _within_budget(cursor, unordered, WALK_BUDGET_MS, ANY_PLAN) or []


def _similar(
    cursor: CursorWrapper,
    base: QuerySet[ServicePoint],
    fragment: str,
    found: dict[int, float],
    limit: int,
) -> None:
    """Nothing contains ``fragment``: the addresses most like it, by trigram word similarity.

    Forgives a wrong or missing character ("华富深南中路1005号" for 华富街道深南中路1003号).
    ``address_norm %> fragment`` is the index-backed form of word_similarity(fragment,
    address_norm) >= pg_trgm.word_similarity_threshold; the default 0.6 suits space-separated
    words, but a Chinese address is one long "word" whose trigrams are whole characters, so
    one wrong character already costs 0.3-0.5. It is the most expensive tier (every row
    sharing enough trigrams is rechecked), hence a fallback only, and time-boxed: a fragment
    of very common trigrams gives up rather than keep a hotline agent waiting for a guess.
    """
    similar = (
        base.filter(TrigramWordSimilar(F("address_norm"), fragment))
        .annotate(sim=TrigramWordSimilarity(fragment, "address_norm"))
        .order_by("-sim", Length("address_norm"), "account_no")
        .values_list("pk", "sim")[: limit - len(found)]
    )
    settings = {
        **PROBE_TRIGRAM,
        "pg_trgm.word_similarity_threshold": str(WORD_SIMILARITY_THRESHOLD),
    }
    rows = _within_budget(cursor, similar, SIMILARITY_BUDGET_MS, settings) or []
    found.update((pk, _similarity_score(float(sim))) for pk, sim in rows)


def _settings_sql(settings: dict[str, str]) -> tuple[str, list[str]]:
    calls = ", ".join("set_config(%s, %s, true)" for _ in settings)
    return f"SELECT {calls}", [item for pair in settings.items() for item in pair]


def _fetch(cursor: CursorWrapper, qs: QuerySet[Any], settings: dict[str, str]) -> list[Any]:
    """Rows of ``qs`` (a values_list) planned under ``settings``, in one round trip."""
    sql, params = qs.query.sql_with_params()
    set_sql, set_params = _settings_sql(settings)
    if is_psycopg3:  # server-side binding takes one statement per call
        cursor.execute(set_sql, set_params)
        cursor.execute(sql, params)
    else:
        cursor.execute(f"{set_sql}; {sql}", [*set_params, *params])
    return [tuple(row) for row in cursor.fetchall()]


def _within_budget(
    cursor: CursorWrapper, qs: QuerySet[Any], budget_ms: int, settings: dict[str, str]
) -> list[Any] | None:
    """Rows of ``qs`` under a statement timeout of ``budget_ms``; None when it ran out of time.

    The settings and a timeout error stay inside a savepoint, rolled back afterwards (the
    statement only reads), so the previous values come back for whatever runs next.
    """
    try:
        with transaction.atomic():
            rows = _fetch(cursor, qs, {"statement_timeout": str(budget_ms), **settings})
            transaction.set_rollback(True)
        return rows
    except OperationalError as exc:  # QueryCanceled: the statement timed out
        if getattr(exc.__cause__, "pgcode", None) != "57014":
            raise
        return None


def _load(found: dict[int, float]) -> list[SearchHit]:
    if not found:
        return []
    points = ServicePoint.objects.select_related("district", "transformer").in_bulk(list(found))
    return [
        SearchHit(service_point=points[pk], score=round(score, 4))
        for pk, score in found.items()
        if pk in points
    ]
