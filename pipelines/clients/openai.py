"""OpenAI Administration API puller: every Usage API endpoint that carries tokens or requests, and the Costs API.

Each usage endpoint is grouped by every dimension it offers that prices a unit or names who spent it, in
1-day buckets; the costs by project and line item. Pages come back as the API's own bytes, ready to land
in raw/ like a dropped file; the `openai_usage` parser recognises each endpoint by its results' `object`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import dagster as dg
import httpx

from pipelines.clients.http import Endpoint, Page, PullError, RetryPolicy, paged

KEY_ENV = "OPENAI_ADMIN_KEY"
_IDENTITY = ("project_id", "user_id", "api_key_id")
# Usage endpoint (under /organization/usage/) -> its group_by (PROVIDERS.md §2.2). Left out:
# vector_stores (bytes stored) and code_interpreter_sessions (sessions): neither carries tokens or requests.
USAGE_GROUP_BY: dict[str, tuple[str, ...]] = {
    "completions": (*_IDENTITY, "model", "batch", "service_tier"),
    "embeddings": (*_IDENTITY, "model"),
    "moderations": (*_IDENTITY, "model"),
    "images": (*_IDENTITY, "model", "size", "source"),
    "audio_speeches": (*_IDENTITY, "model"),
    "audio_transcriptions": (*_IDENTITY, "model"),
    "file_search_calls": (*_IDENTITY, "vector_store_id"),
    "web_search_calls": (*_IDENTITY, "model", "context_level"),
}
# `group_by=api_key_id` is documented for costs but refused by the live API (PROVIDERS.md §2.4).
COST_GROUP_BY = ("project_id", "line_item")
# Buckets per page: the endpoints' maximum for 1-day buckets.
USAGE_DAYS_PER_PAGE = "31"
COST_DAYS_PER_PAGE = "180"
# The identity lists page by `after` = the previous page's `last_id`, at most 100 items a page.
LIST_PER_PAGE = "100"
IDENTITY_KINDS = ("api_keys", "users")


class OpenAIAdminClient(dg.ConfigurableResource):
    """The OpenAI Administration API as the nightly run reaches it: key from OPENAI_ADMIN_KEY, base URL from config."""

    api_key: str
    base_url: str = "https://api.openai.com/v1"
    timeout_seconds: float = 30.0
    max_request_seconds: float = 300.0
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 60.0

    def pages(self, source: str, endpoint: str, start: date, end: date) -> Iterator[Page]:
        """Every page for the UTC days start..end inclusive: `usage` (every usage endpoint in turn) or `costs`."""
        window = [("start_time", _unix(start)), ("end_time", _unix(end + timedelta(days=1))), ("bucket_width", "1d")]
        if endpoint == "usage":
            calls = [
                (f"/organization/usage/{name}", [("limit", USAGE_DAYS_PER_PAGE), *(("group_by", g) for g in group_by)])
                for name, group_by in USAGE_GROUP_BY.items()
            ]
        elif endpoint == "costs":
            calls = [
                ("/organization/costs", [("limit", COST_DAYS_PER_PAGE), *(("group_by", g) for g in COST_GROUP_BY)])
            ]
        else:
            raise ValueError(f"the OpenAI puller has no endpoint {endpoint!r}")
        number = 0
        with self._client() as client:
            for path, params in calls:
                for page in paged(client, self._endpoint(source, path), [*window, *params], self._policy()):
                    number += 1
                    yield dataclasses.replace(page, number=number)

    def identity_pages(self, kind: str) -> Iterator[Page]:
        """Every page of the organization's users, or of every project's API keys (each with its owner), to the end.

        API keys live under projects: the projects (archived ones too, their keys named past usage) are listed
        first, then each project's keys, whatever the owner's current access (`owner_project_access=any`).
        """
        if kind not in IDENTITY_KINDS:
            raise ValueError(f"the OpenAI puller lists no {kind!r} (one of: {', '.join(IDENTITY_KINDS)})")
        source = f"openai_{kind}"
        with self._client() as client:
            if kind == "users":
                yield from self._listing(client, source, "/organization/users", [])
                return
            projects = [("include_archived", "true")]
            ids = [
                project_id
                for page in self._listing(client, source, "/organization/projects", projects)
                for project_id in _ids(source, page)
            ]
            number = 0
            for project_id in ids:
                path = f"/organization/projects/{project_id}/api_keys"
                for page in self._listing(client, source, path, [("owner_project_access", "any")]):
                    number += 1
                    yield dataclasses.replace(page, number=number)

    def _listing(self, client: httpx.Client, source: str, path: str, params: list[tuple[str, str]]) -> Iterator[Page]:
        endpoint = self._endpoint(source, path)
        query = [("limit", LIST_PER_PAGE), *params]
        yield from paged(client, endpoint, query, self._policy(), cursor_param="after", next_field="last_id")

    def _endpoint(self, source: str, path: str) -> Endpoint:
        return Endpoint(source, KEY_ENV, path, list_keys=("group_by",))

    def _policy(self) -> RetryPolicy:
        return RetryPolicy(
            self.timeout_seconds, self.max_request_seconds, self.backoff_initial_seconds, self.backoff_max_seconds
        )

    def _client(self) -> httpx.Client:
        headers = {"authorization": f"Bearer {self.api_key}", "user-agent": "tokencomp (usage ETL)"}
        return httpx.Client(base_url=self.base_url, headers=headers, follow_redirects=False)


def _ids(source: str, page: Page) -> list[str]:
    """The `id` of every item of a listing page (the projects whose keys are listed next)."""
    items = json.loads(page.body).get("data")
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in items):
        raise PullError(f"{source}: page {page.number} of {page.request['path']} has no list of objects with ids")
    return [i["id"] for i in items]


def _unix(day: date) -> str:
    return str(int(datetime.combine(day, time(), tzinfo=UTC).timestamp()))
