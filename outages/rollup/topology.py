"""The network as the engine sees it: parent links, customers, an array index."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import InitVar, dataclass, field

from .config import FaultKind
from .types import DeviceId

NONE = -1


class Index:
    """Array form of a topology: devices numbered so that a parent comes before its children."""

    __slots__ = (
        "ids",
        "pos",
        "parent",
        "up",
        "total",
        "customers_all",
        "predictable",
        "is_transformer",
        "kind",
        "sections",
        "kind_count",
        "shadowed",
    )

    def __init__(
        self,
        parent: Mapping[DeviceId, DeviceId | None],
        customers: Mapping[DeviceId, int],
        switching: frozenset[DeviceId],
        transformers: frozenset[DeviceId],
        kinds: Mapping[DeviceId, FaultKind] | None = None,
        sections: Mapping[DeviceId, int] | None = None,
    ) -> None:
        for label, devices in (
            ("customers", customers.keys()),
            ("switching", switching),
            ("transformers", transformers),
        ):
            unknown = [d for d in devices if d not in parent]
            if unknown:
                raise ValueError(f"{label} names devices missing from parent: {unknown[:5]!r}")
        children: dict[DeviceId, list[DeviceId]] = defaultdict(list)
        roots: list[DeviceId] = []
        for device, up in parent.items():
            if up is None:
                roots.append(device)
            elif up not in parent:
                raise ValueError(f"parent of {device!r} is unknown: {up!r}")
            else:
                children[up].append(device)
        # Breadth-first numbering: a parent's number is below its children's, which lets every
        # later pass run bottom-up by walking numbers downwards, without recursion.
        ids: list[DeviceId] = list(roots)
        head = 0
        while head < len(ids):
            ids.extend(children.get(ids[head], ()))
            head += 1
        if len(ids) != len(parent):
            raise ValueError("parent links contain a cycle")
        pos = {device: i for i, device in enumerate(ids)}
        n = len(ids)
        par = [NONE] * n
        for i, device in enumerate(ids):
            up = parent[device]
            if up is not None:
                par[i] = pos[up]
        predictable = [False] * n
        is_transformer = [False] * n
        for device in switching:
            predictable[pos[device]] = True
        for device in transformers:
            predictable[pos[device]] = True
            is_transformer[pos[device]] = True
        total = [0] * n
        for device, count in customers.items():
            if count < 0:
                raise ValueError(f"negative customer count for {device!r}")
            total[pos[device]] = count
        for i in range(n - 1, -1, -1):
            if par[i] != NONE:
                total[par[i]] += total[i]
        # Nearest predictable strict ancestor: the "parent" that the children rule counts for.
        up_pred = [NONE] * n
        for i in range(n):
            p = par[i]
            if p != NONE:
                up_pred[i] = p if predictable[p] else up_pred[p]
        self.ids = ids
        self.pos = pos
        self.parent = par
        self.up = up_pred
        self.total = total
        self.customers_all = sum(total[i] for i in range(n) if par[i] == NONE)
        self.predictable = predictable
        self.is_transformer = is_transformer
        self._set_kinds(kinds or {}, sections)

    def _set_kinds(
        self, kinds: Mapping[DeviceId, FaultKind], sections: Mapping[DeviceId, int] | None
    ) -> None:
        """Each predictable device's kind and the line sections it protects, and the counts.

        Unnamed transformers are transformers and unnamed switching devices switches; without
        ``sections`` every switching device protects one section.
        """
        n = len(self.ids)
        kind: list[FaultKind | None] = [None] * n
        protects = [0] * n
        for i, device in enumerate(self.ids):
            if not self.predictable[i]:
                continue
            named = kinds.get(device)
            if named is not None:
                kind[i] = FaultKind(named)
            else:
                kind[i] = FaultKind.TRANSFORMER if self.is_transformer[i] else FaultKind.SWITCH
            if sections is None:
                protects[i] = 0 if self.is_transformer[i] else 1
            else:
                protects[i] = max(int(sections.get(device, 0)), 0)
        count: dict[FaultKind, int] = defaultdict(int)
        for k in kind:
            if k is not None:
                count[k] += 1
        count[FaultKind.SECTION] += sum(protects)
        count[FaultKind.PREMISE] += self.customers_all
        self.kind = kind
        self.sections = protects
        self.kind_count = dict(count)
        # A device is shadowed when a predictable device below it cuts off exactly its
        # customers (a fuse in front of a single transformer): the lower one names the outage.
        shadowed = [False] * n
        for i in range(n):
            u = self.up[i]
            if self.predictable[i] and u != NONE and self.total[u] == self.total[i]:
                shadowed[u] = True
        self.shadowed = shadowed


@dataclass(frozen=True, eq=False)
class Topology:
    """The network as the roll-up engine sees it.

    ``parent``: every device → its upstream device (None at a feeder head). Devices that are
    neither switching devices nor transformers (junctions, conductor) may appear: they pass
    calls up but are never predicted. ``customers``: customers directly under each
    transformer (the counts below any device follow). ``closed``: devices that telemetry
    reports closed and carrying load; neither they nor anything above them can be out.

    Building the index is linear in the number of devices; keep one topology per network
    version and use :meth:`with_closed` when only the telemetry changes.
    """

    parent: Mapping[DeviceId, DeviceId | None]
    customers: Mapping[DeviceId, int]
    switching: frozenset[DeviceId]
    transformers: frozenset[DeviceId]
    closed: frozenset[DeviceId] = frozenset()
    shared_index: InitVar[Index | None] = None
    kinds: Mapping[DeviceId, FaultKind] | None = None
    sections: Mapping[DeviceId, int] | None = None
    _index: Index = field(init=False, repr=False)
    _blocked: bytearray = field(init=False, repr=False)

    def __post_init__(self, shared_index: Index | None) -> None:
        index = shared_index or Index(
            self.parent,
            self.customers,
            frozenset(self.switching),
            frozenset(self.transformers),
            self.kinds,
            self.sections,
        )
        blocked = bytearray(len(index.ids))
        for device in self.closed:
            i = index.pos.get(device, NONE)
            # Closed and energised means its whole upstream path is energised too.
            while i != NONE and not blocked[i]:
                blocked[i] = 1
                i = index.parent[i]
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_blocked", blocked)

    def with_closed(self, closed: Iterable[DeviceId]) -> Topology:
        """The same network with another telemetry picture, reusing the built index."""
        return Topology(
            self.parent,
            self.customers,
            self.switching,
            self.transformers,
            frozenset(closed),
            self._index,
            self.kinds,
            self.sections,
        )

    def customers_below(self, device: DeviceId) -> int:
        """Customers cut off when ``device`` opens (its own and everything downstream)."""
        return self._index.total[self._index.pos[device]]
