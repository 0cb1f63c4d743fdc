"""Publish the public map's snapshot now (the demo's first snapshot, or by hand)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from outages.publicmap.snapshot import snapshot_publish


class Command(BaseCommand):
    help = (
        "Build the public outage snapshot from the active outages and publish it as a new "
        "version in SNAPSHOT_DIR (current.json points at it)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        version = snapshot_publish()
        self.stdout.write(f"Published snapshot version {version} in {settings.SNAPSHOT_DIR}")
