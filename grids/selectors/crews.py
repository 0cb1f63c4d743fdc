"""Reads of crew rows for the higher apps."""

from __future__ import annotations

from collections.abc import Iterable

from grids.models import Crew, Skill


def crew_on_duty_by_id(crew_ids: Iterable[int]) -> dict[int, bool]:
    """Whether each of the crews is on duty, by id (unknown ids are left out)."""
    return dict(Crew.objects.filter(pk__in=list(crew_ids)).values_list("pk", "on_duty"))


def skill_get_by_code(code: str | None) -> Skill | None:
    """The skill ``code`` (None for no code or an unknown one)."""
    return Skill.objects.filter(code=code).first() if code else None
