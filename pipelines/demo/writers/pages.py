"""Paging shared by the API-page writers: seven daily buckets per page, and each provider's cursor text."""

from __future__ import annotations

import base64
from datetime import date

from pipelines.demo.formats import rfc3339, unix

PAGE_LIMIT = 7
"""Daily buckets per page: a pull with `limit=7`."""


def anthropic_cursor(day: date) -> str:
    """The `next_page` cursor of an Anthropic report page whose next bucket starts on `day`."""
    return "page_" + base64.b64encode(rfc3339(day).encode()).decode()


def openai_cursor(day: date, salt: int) -> str:
    """The `next_page` cursor of an OpenAI page whose next bucket starts on `day` (salt: which endpoint)."""
    raw = unix(day).to_bytes(8, "big") + salt.to_bytes(8, "big")
    return "page_" + base64.b64encode(raw).decode()
