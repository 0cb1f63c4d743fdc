"""Demo account numbers: a fixed prefix, a 7-digit sequence and a Luhn check digit."""

from __future__ import annotations

ACCOUNT_PREFIX = "03"  # 03 + 7-digit sequence + Luhn check digit = 10 digits


def luhn_digit(digits: str) -> str:
    """The Luhn check digit of ``digits`` (catches a mistyped digit in an account number)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def account_number(index: int) -> str:
    """The demo account number of service point ``index`` (0-based)."""
    body = f"{ACCOUNT_PREFIX}{index:07d}"
    return body + luhn_digit(body)


def account_index(account_no: str) -> int | None:
    """Inverse of ``account_number``; None for an account the demo did not make."""
    if len(account_no) != 10 or not account_no.startswith(ACCOUNT_PREFIX):
        return None
    body = account_no[:-1]
    if not body.isdigit() or luhn_digit(body) != account_no[-1]:
        return None
    return int(body[len(ACCOUNT_PREFIX) :])
