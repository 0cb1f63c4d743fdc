"""The entry point: validate and window the reports, predict, assemble the answer."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from datetime import datetime

from .config import DEFAULT_CONFIG, Mode, RollupConfig
from .coverage import Choice, Coverage, owner_lookup
from .likelihood import predict_likelihood
from .rules import predict_rules
from .timing import Selection, select_live
from .topology import NONE, Index, Topology
from .types import (
    DeviceId,
    Prediction,
    Report,
    ReportId,
    RollupResult,
    SinglePremise,
)


def rollup(
    reports: Iterable[Report],
    topology: Topology,
    *,
    config: RollupConfig = DEFAULT_CONFIG,
    covered: Iterable[DeviceId] = (),
    now: datetime | None = None,
) -> RollupResult:
    """Group ``reports`` by topology and predict the devices that explain them.

    ``covered``: devices of active outages; reports at or below them are not used (they are
    returned in ``covered_reports``). ``now``: the time of the run (default: the latest
    report); the window is anchored on clusters of calls (:mod:`.timing`). Raises
    :class:`NaiveTimeError` when a time has no time zone. Pure and deterministic.
    """
    index = topology._index
    blocked = topology._blocked
    selection = select_live(reports, now=now, window=config.window)
    live = selection.live

    cover = Coverage(index, covered)
    covered_reports: dict[ReportId, DeviceId] = {}
    unlocated: list[Report] = []
    # transformer number → service point key → its reports, in input order.
    calls: dict[int, dict[Hashable, list[Report]]] = {}
    covering: dict[int, int] = {}
    for report in live:
        t = index.pos.get(report.transformer, NONE) if report.transformer is not None else NONE
        if t == NONE:
            unlocated.append(report)
            continue
        c = covering.get(t)
        if c is None:
            c = covering[t] = cover.covering(t)
        if c != NONE:
            covered_reports[report.id] = index.ids[c]
            continue
        key: Hashable = (
            ("sp", report.service_point)
            if report.service_point is not None
            else ("report", report.id)
        )
        calls.setdefault(t, {}).setdefault(key, []).append(report)

    if config.mode is Mode.RULES:
        chosen = predict_rules(index, blocked, calls, config, cover)
    else:
        chosen = predict_likelihood(index, blocked, calls, config, cover)

    position = {id(report): n for n, report in enumerate(live)}
    return _assemble(
        index, calls, chosen, cover, unlocated, covered_reports, selection, config, position
    )


def _assemble(
    index: Index,
    calls: Mapping[int, Mapping[Hashable, list[Report]]],
    chosen: Mapping[int, Choice],
    cover: Coverage,
    unlocated: list[Report],
    covered_reports: dict[ReportId, DeviceId],
    selection: Selection,
    config: RollupConfig,
    position: Mapping[int, int],
) -> RollupResult:
    owner = owner_lookup(index, chosen)
    explained: dict[int, list[list[Report]]] = defaultdict(list)
    lone: list[tuple[int, list[Report]]] = []
    for t, by_sp in calls.items():
        d = owner(t)
        for group in by_sp.values():
            if d == NONE:
                lone.append((t, group))
            else:
                explained[d].append(group)
    absorbs: dict[int, list[DeviceId]] = defaultdict(list)
    for c in cover.top:
        d = owner(c)
        if d != NONE:
            absorbs[d].append(index.ids[c])

    predictions = []
    for d in sorted(explained):
        groups = explained[d]
        choice = chosen[d]
        reports = sorted((r for g in groups for r in g), key=lambda r: position[id(r)])
        score = choice.score
        if config.mode is Mode.RULES:
            score = len(groups) / index.total[d] if index.total[d] else 1.0
        predictions.append(
            Prediction(
                device=index.ids[d],
                report_ids=tuple(r.id for r in reports),
                callers=len(groups),
                customers=index.total[d],
                score=score,
                confidence=choice.confidence,
                reason=choice.reason,
                absorbs=tuple(absorbs.get(d, ())),
            )
        )
    # Single-premise requests in the order of their first report.
    single = [
        (position[id(r)], SinglePremise(r.service_point, r.transformer, (r.id,))) for r in unlocated
    ]
    single.extend(
        (
            position[id(group[0])],
            SinglePremise(group[0].service_point, index.ids[t], tuple(r.id for r in group)),
        )
        for t, group in lone
    )
    single.sort(key=lambda item: item[0])
    return RollupResult(
        predictions=tuple(predictions),
        single_premise=tuple(request for _, request in single),
        covered_reports=covered_reports,
        stale_report_ids=tuple(selection.stale),
        future_report_ids=tuple(selection.future),
        duplicate_reports=selection.duplicates,
    )
