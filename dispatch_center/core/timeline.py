"""Writing timeline rows (subclasses of ``core.models.TimelineEvent``)."""

from typing import Any, TypeVar

from django.contrib.auth.models import User

from .models import TimelineEvent

E = TypeVar("E", bound=TimelineEvent)


def label_for(actor: User | None, actor_label: str = "") -> str:
    """What the timeline shows as the actor: the username, or a label such as "system"."""
    if actor is not None:
        return actor.get_username()
    return actor_label or "system"


def make_event(
    model: type[E],
    *,
    actor: User | None = None,
    actor_label: str = "",
    data: dict[str, Any] | None = None,
    **fields: Any,
) -> E:
    """An unsaved row of ``model`` (bulk paths save many at once); ``fields`` are the
    model's own (its aggregate, ``kind``, ``at``, statuses, ``reason``...)."""
    return model(actor=actor, actor_label=label_for(actor, actor_label), data=data or {}, **fields)


def record_event(model: type[E], **kwargs: Any) -> E:
    """Append one row to a timeline (arguments of ``make_event``)."""
    event = make_event(model, **kwargs)
    event.save()
    return event
