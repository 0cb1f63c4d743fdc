"""Fail early, with a clear message, when PostgreSQL or Redis is unreachable."""

import os
import sys
from urllib.parse import urlparse


def main() -> int:
    import psycopg2
    import redis

    problems = []
    db_url = os.environ["DATABASE_URL"]
    parsed = urlparse(db_url)
    try:
        conn = psycopg2.connect(
            host=parsed.hostname,
            port=parsed.port or 5432,
            user=parsed.username or "postgres",
            password=parsed.password,
            dbname="postgres",
            connect_timeout=3,
        )
        conn.close()
    except psycopg2.Error as exc:
        problems.append(f"PostgreSQL is unreachable at {parsed.hostname}:{parsed.port}: {exc}")
    redis_url = os.environ["REDIS_URL"]
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        problems.append(f"Redis is unreachable at {redis_url}: {exc}")
    for problem in problems:
        print(f"ERROR: {problem}", file=sys.stderr)  # noqa: T201
    if problems:
        print(  # noqa: T201
            "The tests need both servers. Start them, or point DATABASE_URL / REDIS_URL at them.",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
