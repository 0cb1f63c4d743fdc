"""Active outages as the engine sees them, and the choice of devices it builds."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from .config import RollupConfig
from .topology import NONE, Index
from .types import DeviceId, Reason


@dataclass(slots=True)
class Choice:
    reason: Reason
    score: float = 0.0
    confidence: float = 1.0


class Coverage:
    """Active-outage devices: which transformer they cover and what they add to ancestors."""

    def __init__(self, index: Index, covered: Iterable[DeviceId]) -> None:
        self._index = index
        marked = {index.pos[d] for d in covered if d in index.pos}
        self._memo: dict[int, int] = {}
        # Only the top-most covered devices matter; one inside another is already covered.
        self.top = sorted(c for c in marked if self._first_marked_above(c, marked) == NONE)
        self._top_set = set(self.top)
        self.customers = sum(index.total[c] for c in self.top)
        self.covered_customers_under: dict[int, int] = defaultdict(int)
        self.covered_count_under: dict[int, int] = defaultdict(int)
        for c in self.top:
            i = index.parent[c]
            while i != NONE:
                self.covered_customers_under[i] += index.total[c]
                self.covered_count_under[i] += 1
                i = index.parent[i]

    def _first_marked_above(self, c: int, marked: set[int]) -> int:
        i = self._index.parent[c]
        while i != NONE:
            if i in marked:
                return i
            i = self._index.parent[i]
        return NONE

    def covering(self, t: int) -> int:
        """The covered device at or above ``t``, or ``NONE``."""
        if not self.top:
            return NONE
        path: list[int] = []
        i = t
        found = NONE
        while i != NONE:
            if i in self._memo:
                found = self._memo[i]
                break
            if i in self._top_set:
                found = i
                break
            path.append(i)
            i = self._index.parent[i]
        for j in path:
            self._memo[j] = found
        return found


def owner_lookup(index: Index, chosen: Mapping[int, Choice]) -> Callable[[int], int]:
    """A function giving the top-most chosen device at or above a device (memoised walk)."""
    memo: dict[int, int] = {}

    def owner(t: int) -> int:
        path: list[int] = []
        i = t
        while i != NONE and i not in memo:
            path.append(i)
            i = index.parent[i]
        found = memo[i] if i != NONE else NONE
        # Walk back down: the top-most chosen device on the path wins.
        for j in reversed(path):
            if found == NONE and j in chosen:
                found = j
            memo[j] = found
        return found

    return owner


def may_predict(d: int, cover: Coverage, config: RollupConfig) -> bool:
    return config.widen_covered or cover.covered_count_under.get(d, 0) == 0
