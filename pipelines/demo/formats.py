"""Text formats the demo files share: exact decimal text, provider timestamps, compact JSON, and random ids.

Every id is drawn from the demo's single random stream, so the same seed gives the same ids in the same order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from random import Random

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_HEX = "0123456789abcdef"
DEC_MARK = "@@DEC@@"
"""Prefix of a string that `dumps` writes as a bare JSON number (OpenAI's amounts are JSON numbers)."""
_DEC_MARK_RE = re.compile(r'"' + DEC_MARK + r'([0-9.]+)"')


def dec_text(value: Decimal) -> str:
    """Plain decimal text of an exact amount: no exponent, no trailing zeros ("0" for zero)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def rfc3339(day: date) -> str:
    """Midnight UTC of `day` as Anthropic's reports write it."""
    return f"{day.isoformat()}T00:00:00Z"


def unix(day: date) -> int:
    """Midnight UTC of `day` in Unix seconds, as OpenAI's reports write it."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def timestamp(day: date, ms: int) -> str:
    """`ms` milliseconds after midnight UTC of `day`, as Claude Code's logs write it."""
    s, milli = divmod(ms, 1000)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{day.isoformat()}T{h:02d}:{m:02d}:{sec:02d}.{milli:03d}Z"


def chunks(items: Sequence[date], size: int) -> Iterator[Sequence[date]]:
    """Consecutive runs of `size` days (the last one shorter): the buckets of one report page."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def dumps(obj: object) -> str:
    """Compact JSON with fixed key order; `DEC_MARK` strings become bare JSON numbers."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return _DEC_MARK_RE.sub(r"\1", text) if DEC_MARK in text else text


class Ids:
    """Provider-shaped random identifiers drawn from the demo's single random stream."""

    def __init__(self, rng: Random) -> None:
        self._rng = rng

    def b62(self, n: int) -> str:
        """`n` base-62 characters (the tail of Anthropic and OpenAI ids)."""
        return "".join(self._rng.choices(_B62, k=n))

    def hexs(self, n: int) -> str:
        """`n` lower-case hex digits."""
        return "".join(self._rng.choices(_HEX, k=n))

    def uuid4(self) -> str:
        """A version-4 UUID in its usual text form."""
        h = self.hexs(32)
        variant = "89ab"[self._rng.randrange(4)]
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}"
