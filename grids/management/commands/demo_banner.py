"""Print the URLs and demo logins of a running demo."""

from django.conf import settings
from django.core.management.base import BaseCommand

from grids.services.demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Print the application's URLs and the demo logins."

    def handle(self, *args: object, **options: object) -> None:
        base = settings.PUBLIC_BASE_URL.rstrip("/")  # scripts/demo sets it from PORT
        lines = [
            "",
            "Outage & repair dispatch center is starting on " + base,
            f"  Home            {base}/",
            f"  Outage map      {base}/map/          (public, no login)",
            f"  Dispatcher      {base}/console/      (login: dispatcher)",
            f"  Hotline agent   {base}/agent/        (login: agent)",
            f"  Admin           {base}/admin/",
            f"  API docs        {base}/api/schema/ui/",
            f"  Health          {base}/healthz",
            "",
            f"Demo logins (password for all: {DEMO_PASSWORD}):",
        ]
        lines += [f"  {username:<14} {role}" for username, role in DEMO_USERS]
        self.stdout.write("\n".join(lines) + "\n")
