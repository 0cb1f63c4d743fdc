"""An in-memory substring index of the service points' normalised addresses.

The public look-up finds the addresses containing what a caller typed. In PostgreSQL that is
a trigram index scan, cheap to execute but costly to plan and run thousands of times a minute
in a storm, with the database on the same few cores as everything else. This index answers
the same question in process memory: for each three adjacent characters (a trigram) the
sorted rows whose address holds it; a fragment's candidates are the rows holding all of its
trigrams (the rarest few suffice to narrow them), then each candidate is checked with a real
substring test, so the answer is exact.

Plain data and numpy, no ORM: the caller gives the rows (see
``grids.selectors.address_snapshot`` for the loading and freshness).

Memory: about ``4 * trigrams`` bytes of postings (an address of n characters has at most
n - 2 distinct trigrams) plus the addresses and account numbers as two joined strings: 65 MB
at 300,000 demo service points (``nbytes``), so about 215 MB at 1,000,000.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Separates the joined addresses; PostgreSQL text never holds it, so no trigram spans two rows.
_SEP = "\x00"
_ROW_BITS = 22  # rows per index: at most 4,194,304
_CHAR_LIMIT = 1 << 13  # distinct characters: a trigram's code and a row fit in 63 bits
# Candidates at or below this many are checked directly instead of narrowed further.
_DIRECT = 24


@dataclass(frozen=True, slots=True)
class IndexMatch:
    """A row containing the fragment, with ``service_point_search``'s ranking columns."""

    id: int
    is_prefix: bool
    length: int
    account_no: str


class AddressIndex:
    """The rows ``(id, address_norm, account_no, district_id)`` given to ``build``, searchable
    by substring of ``address_norm``. Immutable once built: a newer set of rows is a new
    index."""

    __slots__ = (
        "_accounts",
        "_account_starts",
        "_char_codes",
        "_codes",
        "_districts",
        "_ids",
        "_norms",
        "_offsets",
        "_postings",
        "_starts",
        "size",
    )

    def __init__(
        self,
        ids: np.ndarray,
        norms: str,
        starts: np.ndarray,
        accounts: str,
        account_starts: np.ndarray,
        districts: np.ndarray,
        char_codes: dict[str, int],
        codes: np.ndarray,
        offsets: np.ndarray,
        postings: np.ndarray,
    ) -> None:
        self._ids = ids
        self._norms = norms
        self._starts = starts
        self._accounts = accounts
        self._account_starts = account_starts
        self._districts = districts
        self._char_codes = char_codes
        self._codes = codes
        self._offsets = offsets
        self._postings = postings
        self.size = len(ids)

    @classmethod
    def build(
        cls,
        ids: Sequence[int],
        norms: Sequence[str],
        accounts: Sequence[str],
        districts: Sequence[int | None],
    ) -> AddressIndex:
        """The index of the rows given as four parallel sequences (district None: none)."""
        n = len(ids)
        if not len(norms) == len(accounts) == len(districts) == n:
            raise ValueError("the four sequences must have the same length")
        if n >= 1 << _ROW_BITS:
            raise ValueError(f"at most {(1 << _ROW_BITS) - 1} rows")
        joined = _SEP.join(norms) + _SEP
        lengths = np.fromiter((len(s) for s in norms), dtype=np.int64, count=n)
        starts = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths + 1, out=starts[1:])
        points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
        counts = np.bincount(points)
        chars = np.flatnonzero(counts)
        # Dense character codes, the most frequent first; past the limit the rarest share one
        # code (more candidates, checked all the same). The separator keeps code 0.
        order = np.argsort(-counts[chars], kind="stable")
        rank = np.empty(len(chars), dtype=np.int64)
        rank[order] = np.arange(len(chars))
        if chars[0] == 0:
            rank[rank < rank[0]] += 1
            rank[0] = 0
        rank = np.minimum(rank, _CHAR_LIMIT - 1)
        table = np.zeros(len(counts), dtype=np.int64)
        table[chars] = rank
        codes_of = table[points]
        rows = np.repeat(np.arange(n, dtype=np.int64), lengths + 1)
        a, b, c = codes_of[:-2], codes_of[1:-1], codes_of[2:]
        inside = (a != 0) & (b != 0) & (c != 0)
        grams = (a[inside] << 26) | (b[inside] << 13) | c[inside]
        keys = np.sort((grams << _ROW_BITS) | rows[:-2][inside])
        # One entry per row and trigram, sorted by trigram, then row.
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys
        codes, offsets = np.unique(keys >> _ROW_BITS, return_index=True)
        char_codes = dict(zip(map(chr, chars.tolist()), rank.tolist(), strict=True))
        account_text = _SEP.join(accounts) + _SEP
        account_lengths = np.fromiter((len(s) for s in accounts), dtype=np.int64, count=n)
        account_starts = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(account_lengths + 1, out=account_starts[1:])
        return cls(
            ids=np.asarray(ids, dtype=np.int64),
            norms=joined,
            starts=starts,
            accounts=account_text,
            account_starts=account_starts,
            districts=np.asarray([-1 if d is None else d for d in districts], dtype=np.int64),
            char_codes=char_codes,
            codes=codes,
            offsets=np.append(offsets, len(keys)).astype(np.int64),
            postings=(keys & ((1 << _ROW_BITS) - 1)).astype(np.int32),
        )

    @property
    def nbytes(self) -> int:
        """Memory held, in bytes (arrays and strings, approximately)."""
        arrays = [self._ids, self._starts, self._account_starts, self._districts, self._codes]
        arrays += [self._offsets, self._postings]
        text = len(self._norms) * 4 + len(self._accounts)  # upper bound for the addresses
        return sum(a.nbytes for a in arrays) + text

    def _candidates(self, fragment: str) -> np.ndarray:
        """Rows holding the rarest trigrams of ``fragment`` (a superset of the matches),
        sorted."""
        char_codes = self._char_codes
        if not len(self._codes):  # no address of three characters
            return np.empty(0, dtype=np.int32)
        dense = np.fromiter((char_codes.get(ch, 0) for ch in fragment), np.int64, len(fragment))
        grams = np.unique((dense[:-2] << 26) | (dense[1:-1] << 13) | dense[2:])
        at = np.searchsorted(self._codes, grams)
        at[at == len(self._codes)] = 0
        # A character (code 0) or a trigram that no address has: nothing matches.
        if not dense.all() or not (self._codes[at] == grams).all():
            return np.empty(0, dtype=np.int32)
        begins, ends = self._offsets[at], self._offsets[at + 1]
        postings = self._postings
        rarest = np.argsort(ends - begins, kind="stable")
        first = rarest[0]
        candidates = postings[begins[first] : ends[first]]
        for i in rarest[1:].tolist():
            if len(candidates) <= _DIRECT:
                break
            other = postings[begins[i] : ends[i]]
            where = np.searchsorted(other, candidates)
            where[where == len(other)] = 0
            candidates = candidates[other[where] == candidates]
        return candidates

    def search(
        self, fragment: str, *, limit: int, cap: int, districts: frozenset[int] | None = None
    ) -> tuple[int, list[IndexMatch]]:
        """The rows whose address contains ``fragment`` (three or more characters), restricted
        to ``districts`` when given: how many there are, counting no further than ``cap + 1``,
        and the first ``limit`` in ``service_point_search``'s order (prefix matches first,
        then shorter addresses, then account numbers by code point). When the count is over
        ``cap`` the matches are not ranked (empty list): the fragment is too common."""
        if len(fragment) < 3 or _SEP in fragment:
            raise ValueError("a fragment of three or more characters, without NUL")
        norms, starts = self._norms, self._starts
        found: list[tuple[bool, int, int]] = []
        for row in self._candidates(fragment).tolist():
            if districts is not None and int(self._districts[row]) not in districts:
                continue
            start, end = int(starts[row]), int(starts[row + 1]) - 1
            where = norms.find(fragment, start, end)
            if where < 0:
                continue
            found.append((where != start, end - start, row))
            if len(found) > cap:
                return len(found), []
        if not found:
            return 0, []
        accounts, account_starts = self._accounts, self._account_starts

        def account(row: int) -> str:
            return accounts[int(account_starts[row]) : int(account_starts[row + 1]) - 1]

        ranked = sorted((later, length, account(row), row) for later, length, row in found)
        top = [
            IndexMatch(int(self._ids[row]), not later, length, acct)
            for later, length, acct, row in ranked[:limit]
        ]
        return len(found), top
