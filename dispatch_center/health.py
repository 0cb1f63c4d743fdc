"""Health of the services the application needs."""

import redis
from django.conf import settings
from django.db import connection


def database_status() -> str:
    """``"ok"`` or a short description of the failure."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return f"error: {exc.__class__.__name__}"
    return "ok"


def redis_status() -> str:
    """``"ok"``, ``"not configured"`` in the embedded mode, or the failure."""
    url = settings.REDIS_URL
    if not url:
        return "not configured"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
    except redis.RedisError as exc:
        return f"error: {exc.__class__.__name__}"
    return "ok"
