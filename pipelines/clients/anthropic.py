"""Anthropic Admin API puller: the messages usage report, the cost report and the Claude Code report, page by page.

The usage report is grouped by every dimension the endpoint offers that prices a token or names who
spent it, in 1-day buckets; the cost report by workspace and description; the Claude Code analytics
report is asked one UTC day at a time (it takes no range). Each page comes back as the API's own bytes,
ready to land in raw/ like a dropped file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

import dagster as dg
import httpx

from pipelines.clients.http import Endpoint, Page, RetryPolicy, paged

KEY_ENV = "ANTHROPIC_ADMIN_API_KEY"
API_VERSION = "2023-06-01"
# `speed` is only accepted with this beta header (PROVIDERS.md §1.2).
SPEED_BETA = "fast-mode-2026-02-01"
USAGE_GROUP_BY = (
    "account_id",
    "api_key_id",
    "service_account_id",
    "workspace_id",
    "model",
    "service_tier",
    "context_window",
    "inference_geo",
    "speed",
)
COST_GROUP_BY = ("workspace_id", "description")
# Buckets per page: the endpoints' maximum for 1-day buckets.
DAYS_PER_PAGE = "31"
# endpoint (a spec's `api` after "anthropic:") -> its group_by and extra headers
ENDPOINTS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "usage_report/messages": (USAGE_GROUP_BY, {"anthropic-beta": SPEED_BETA}),
    "cost_report": (COST_GROUP_BY, {}),
}
# identity kind -> the Admin API list it pages through (`after_id` = the previous page's `last_id`)
IDENTITY_PATHS = {"api_keys": "/v1/organizations/api_keys", "users": "/v1/organizations/users"}
IDENTITY_PER_PAGE = "1000"
CLAUDE_CODE = "usage_report/claude_code"
# Records per page of the Claude Code report: its maximum.
CLAUDE_CODE_PER_PAGE = "1000"


class AnthropicAdminClient(dg.ConfigurableResource):
    """The Anthropic Admin API as the nightly run reaches it: key from ANTHROPIC_ADMIN_API_KEY, base URL from config."""

    api_key: str
    base_url: str = "https://api.anthropic.com"
    timeout_seconds: float = 30.0
    max_request_seconds: float = 300.0
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 60.0

    def pages(self, source: str, endpoint: str, start: date, end: date) -> Iterator[Page]:
        """Every page of `endpoint` (ENDPOINTS or CLAUDE_CODE) for the UTC days start..end inclusive, for `source`."""
        if endpoint == CLAUDE_CODE:
            yield from self._claude_code(source, start, end)
            return
        if endpoint not in ENDPOINTS:
            raise ValueError(f"the Anthropic puller has no endpoint {endpoint!r}")
        group_by, extra = ENDPOINTS[endpoint]
        params = [
            ("starting_at", _instant(start)),
            ("ending_at", _instant(end + timedelta(days=1))),
            ("bucket_width", "1d"),
            ("limit", DAYS_PER_PAGE),
            *(("group_by[]", g) for g in group_by),
        ]
        with self._client(extra) as client:
            yield from paged(client, Endpoint(source, KEY_ENV, f"/v1/organizations/{endpoint}"), params, self._policy())

    def _claude_code(self, source: str, start: date, end: date) -> Iterator[Page]:
        """The Claude Code report takes one day per request (`starting_at=YYYY-MM-DD`): each day, paged to its end."""
        endpoint = Endpoint(source, KEY_ENV, f"/v1/organizations/{CLAUDE_CODE}")
        number = 0
        with self._client({}) as client:
            for offset in range((end - start).days + 1):
                params = [
                    ("starting_at", (start + timedelta(days=offset)).isoformat()),
                    ("limit", CLAUDE_CODE_PER_PAGE),
                ]
                for page in paged(client, endpoint, params, self._policy()):
                    number += 1
                    yield dataclasses.replace(page, number=number)

    def identity_pages(self, kind: str) -> Iterator[Page]:
        """Every page of the organization's API keys (each with `created_by`, every status) or users, to the end."""
        if kind not in IDENTITY_PATHS:
            raise ValueError(f"the Anthropic puller lists no {kind!r} (one of: {', '.join(IDENTITY_PATHS)})")
        endpoint = Endpoint(f"anthropic_{kind}", KEY_ENV, IDENTITY_PATHS[kind])
        with self._client({}) as client:
            yield from paged(
                client,
                endpoint,
                [("limit", IDENTITY_PER_PAGE)],
                self._policy(),
                cursor_param="after_id",
                next_field="last_id",
            )

    def _policy(self) -> RetryPolicy:
        return RetryPolicy(
            self.timeout_seconds, self.max_request_seconds, self.backoff_initial_seconds, self.backoff_max_seconds
        )

    def _client(self, extra: dict[str, str]) -> httpx.Client:
        headers = {
            "x-api-key": self.api_key,
            "anthropic-version": API_VERSION,
            "user-agent": "tokencomp (usage ETL)",
            **extra,
        }
        return httpx.Client(base_url=self.base_url, headers=headers, follow_redirects=False)


def _instant(day: date) -> str:
    return datetime.combine(day, time()).strftime("%Y-%m-%dT%H:%M:%SZ")
