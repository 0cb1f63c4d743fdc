"""Abstract models shared by every app."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """Adds ``created_at`` and ``updated_at``, both aware timestamps."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class ActorRecord(models.Model):
    """Who did something, when and why: the columns every record of an action carries (a
    timeline line, an ETR change)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # The username, or who acted when no person did ("system", "beat", "scada", a crew code).
    actor_label = models.CharField(_("actor"), max_length=64, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        abstract = True
        ordering = ["at", "pk"]


class TimelineEvent(ActorRecord):
    """One line of an aggregate's timeline (an outage's, a work order's): who, when, why and
    what else. Subclasses add the aggregate's foreign key, ``kind``, ``from_status`` and
    ``to_status`` (their choices differ) and the index on (aggregate, ``at``); the constraint
    below refers to those fields. Written by ``dispatch_center.core.timeline``.
    """

    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta(ActorRecord.Meta):
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="status_changed") | ~Q(to_status=""),
                name="%(app_label)s_%(class)s_status_change_has_target",
            )
        ]
