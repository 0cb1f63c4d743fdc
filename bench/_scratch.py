"""The benchmarks' scratch PostgreSQL databases: the server of ``DATABASE_URL`` with another
database name, and statements run on its maintenance database (``postgres``) in autocommit,
such as ``CREATE DATABASE {}`` with the names quoted as identifiers."""

from __future__ import annotations

import os
from urllib.parse import urlparse, urlunparse


def server_url(database: str) -> str:
    """``DATABASE_URL`` (default: the local server) with ``database`` as its database."""
    url = urlparse(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres")
    return urlunparse(url._replace(path=f"/{database}"))


def admin(statement: str, *names: str) -> None:
    """Run ``statement`` with each ``{}`` replaced by one of ``names``, quoted."""
    import psycopg2
    from psycopg2 import sql

    url = urlparse(server_url("postgres"))
    conn = psycopg2.connect(
        host=url.hostname,
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        dbname="postgres",
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL(statement).format(*(sql.Identifier(n) for n in names)))
    conn.close()
