"""Site photos: the type is sniffed from the content (JPEG, PNG or WebP), never trusted from
the file name or the client's content type, and the size is capped
(``WORKORDERS_PHOTO_MAX_BYTES``, 10 MB)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import DomainError
from grids.models import Crew
from workorders.models import WorkOrder, WorkOrderPhoto

from . import common

MAX_PHOTOS = 10


def sniff_image_type(head: bytes) -> str | None:
    """The image type of a file from its first bytes (magic numbers), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def photo_check(upload: UploadedFile) -> str:
    """The sniffed content type of ``upload``; ``DomainError`` (field ``photos``) when it is
    not a JPEG, PNG or WebP image or is larger than the limit."""
    limit = common.conf().photo_max_bytes
    name = upload.name or "?"
    if upload.size is None or upload.size > limit:
        message = _("照片 %(name)s 超过 %(mb)s MB。") % {"name": name, "mb": limit // (1024 * 1024)}
        raise DomainError(message, code="invalid", fields={"photos": [message]})
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    content_type = sniff_image_type(head)
    if content_type is None:
        message = _("照片 %(name)s 不是 JPEG、PNG 或 WebP 图片。") % {"name": name}
        raise DomainError(message, code="invalid", fields={"photos": [message]})
    return content_type


def work_order_photos_store(
    *, order: WorkOrder, crew: Crew, uploads: Sequence[UploadedFile], at: datetime
) -> list[WorkOrderPhoto]:
    """Check and store ``uploads`` as photos of ``order`` (caller's transaction). All are
    checked before any is written."""
    if len(uploads) > MAX_PHOTOS:
        message = _("一次最多上传 %(n)s 张照片。") % {"n": MAX_PHOTOS}
        raise DomainError(message, code="invalid", fields={"photos": [message]})
    types = [photo_check(u) for u in uploads]
    stored = []
    for upload, content_type in zip(uploads, types, strict=True):
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        photo = WorkOrderPhoto(
            order=order,
            crew=crew,
            content_type=content_type,
            size=upload.size or 0,
            sha256=digest.hexdigest(),
            original_name=(upload.name or "")[:200],
            uploaded_at=at,
        )
        photo.image.save("photo", upload, save=False)
        photo.save()
        stored.append(photo)
    return stored
