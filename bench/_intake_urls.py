"""URLs of ``bench/intake_throughput.py``: the project's, plus ``bench/bare`` — the baseline.

The bare view does the least a report endpoint must: parse the JSON body, insert one
``TroubleReport`` row (autocommit), answer 201 with its reference. No DRF, no validation, no
throttle, no resolution: what the real endpoint is compared against.
"""

import json
import secrets

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from dispatch_center.urls import urlpatterns as project_urlpatterns
from outages.models import TroubleReport


@csrf_exempt
def bare_insert(request: HttpRequest) -> JsonResponse:
    body = json.loads(request.body)
    report = TroubleReport.objects.create(
        reference="B" + secrets.token_hex(8),
        channel="web",
        contact_phone=body.get("phone", ""),
        symptom=body.get("symptom", "no_power"),
        raw_account_no=body.get("account_no") or "",
        raw_address=body.get("address") or "",
        received_at=timezone.now(),
    )
    return JsonResponse({"reference": report.reference, "status": report.status}, status=201)


urlpatterns = [path("bench/bare", bare_insert), *project_urlpatterns]
