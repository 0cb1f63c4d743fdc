"""Smoke test of the Django admin: every registered model's pages render for a superuser.

The list of models comes from ``admin.site._registry`` when the test runs, so the admin of an
app added later is covered without touching this file. A small demo city is seeded first so
the change lists have rows to render (list_display callables, select_related, filters).
"""

import contextlib

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse


def _pages(model, model_admin, request):
    """(label, url) of the pages to open for one registered model."""
    info = (model._meta.app_label, model._meta.model_name)
    pages = [("changelist", reverse("admin:{}_{}_changelist".format(*info)))]
    if model_admin.get_search_fields(request):
        pages.append(("search", pages[0][1] + "?q=1"))
    if model_admin.has_add_permission(request):
        pages.append(("add", reverse("admin:{}_{}_add".format(*info))))
    first = model._default_manager.order_by("pk").first()
    if first is not None and model_admin.has_view_or_change_permission(request, first):
        with contextlib.suppress(NoReverseMatch):  # an admin may remove the change view
            pages.append(("change", reverse("admin:{}_{}_change".format(*info), args=[first.pk])))
    return pages


@pytest.mark.django_db
def test_every_admin_page_renders_for_a_superuser(client):
    # Given a small demo city and a superuser
    call_command(
        "seed_demo",
        service_points=60,
        feeders_per_grid=1,
        crews_per_station=1,
        no_progress=True,
        verbosity=0,
    )
    superuser = User.objects.create_superuser("admin-smoke", password="pass-for-tests-1")
    client.force_login(superuser)
    request = RequestFactory().get("/admin/")
    request.user = superuser
    registry = admin.site._registry
    assert any(m._meta.app_label == "grids" for m in registry)

    # When every page of every registered model is opened
    failures = []
    opened = 0
    for model, model_admin in sorted(registry.items(), key=lambda kv: kv[0]._meta.label):
        for label, url in _pages(model, model_admin, request):
            opened += 1
            try:
                status = client.get(url).status_code
            except Exception as exc:  # noqa: BLE001 - report every broken page, not the first
                failures.append(f"{model._meta.label} {label} {url}: {exc!r}")
                continue
            if status != 200:
                failures.append(f"{model._meta.label} {label} {url}: HTTP {status}")

    # Then each answers 200
    assert not failures, "\n".join(failures)
    assert opened >= 2 * len(registry)
