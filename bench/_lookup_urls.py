"""URLs of ``bench/lookup_throughput.py``: the project's, plus the two baselines.

- ``bench/bare-read?q=ACCOUNT``: a plain Django view doing one indexed PostgreSQL read (a
  service point by account number) and answering its address as JSON. No DRF, no cache.
- ``bench/bare-json``: a plain Django view answering a constant JSON object (the cost of
  Django and gunicorn alone).
"""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import path

from dispatch_center.urls import urlpatterns as project_urlpatterns


def bare_read(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT address, lat, lng FROM grids_servicepoint WHERE account_no = %s",
            [request.GET.get("q", "")],
        )
        row = cursor.fetchone()
    match = None if row is None else {"address": row[0], "lat": row[1], "lng": row[2]}
    return JsonResponse({"matches": [match] if match else []})


def bare_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"matches": [], "ok": True})


urlpatterns = [
    path("bench/bare-read", bare_read),
    path("bench/bare-json", bare_json),
    *project_urlpatterns,
]
