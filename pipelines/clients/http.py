"""HTTP mechanics every provider puller shares: timeouts, bounded retries, cursor paging.

A request is retried on 429, 5xx, timeouts and dropped connections, honouring `retry-after`, with
exponential backoff and jitter, until its total time budget is spent. A page's body is kept byte for
byte, so raw/ holds exactly what the provider said. Error messages name the source and the key's
environment variable, never the key (it travels in a header only, and headers are never formatted).
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import tenacity


class PullError(Exception):
    """A pull that failed after retries (network, 5xx, bad paging): exit code 2, one line."""


class AuthRefused(PullError):
    """The provider refused the key (401/403): nothing is written."""


@dataclass(frozen=True)
class RetryPolicy:
    """How long one request may take and how retries wait (`[clients]` in config)."""

    timeout_seconds: float = 30.0
    max_request_seconds: float = 300.0
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 60.0


@dataclass(frozen=True)
class Page:
    """One API response page exactly as returned, with the request parameters that fetched it."""

    body: bytes
    number: int
    request: Mapping[str, object] = field(default_factory=dict)


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a `retry-after` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _waiter(policy: RetryPolicy) -> tenacity.wait.wait_base:
    backoff = tenacity.wait_random_exponential(
        multiplier=policy.backoff_initial_seconds, max=policy.backoff_max_seconds
    )

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return exc.retry_after
        return backoff(state)

    return wait  # type: ignore[return-value]


@dataclass(frozen=True)
class Endpoint:
    """Who is calling what: the source being pulled and the variable its key comes from (for messages)."""

    source: str
    key_env: str
    path: str
    # query keys the manifest records as lists even when sent once (OpenAI repeats `group_by` unbracketed)
    list_keys: tuple[str, ...] = ()


def get_once(
    client: httpx.Client,
    endpoint: Endpoint,
    params: Sequence[tuple[str, str]],
    policy: RetryPolicy,
) -> bytes:
    """GET one page with retries; its body as bytes. Raises AuthRefused on 401/403, PullError otherwise."""

    def attempt() -> bytes:
        try:
            response = client.get(endpoint.path, params=list(params), timeout=policy.timeout_seconds)
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out after {policy.timeout_seconds:g} s") from exc
        except httpx.TransportError as exc:
            raise _Retryable(f"connection failed ({type(exc).__name__})") from exc
        status = response.status_code
        if status in (401, 403):
            raise AuthRefused(
                f"{endpoint.source}: the provider refused the key in {endpoint.key_env} (HTTP {status}); "
                "nothing was written"
            )
        if status == 429 or status >= 500:
            raise _Retryable(f"HTTP {status}", _retry_after(response.headers.get("retry-after")))
        if status >= 400:
            raise PullError(f"{endpoint.source}: {endpoint.path} answered HTTP {status}: {_error_text(response)}")
        return response.content

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(_Retryable),
        wait=_waiter(policy),
        stop=tenacity.stop_before_delay(policy.max_request_seconds),
        reraise=True,
    )
    try:
        return retrying(attempt)
    except _Retryable as exc:
        raise PullError(
            f"{endpoint.source}: {endpoint.path} still failing after retrying for up to "
            f"{policy.max_request_seconds:g} s: {exc}"
        ) from None


def _error_text(response: httpx.Response) -> str:
    """The provider's own error message, on one line and short."""
    try:
        message = json.loads(response.content)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = response.text
    return " ".join(str(message).split())[:200]


def paged(
    client: httpx.Client,
    endpoint: Endpoint,
    params: Sequence[tuple[str, str]],
    policy: RetryPolicy,
    cursor_param: str = "page",
    next_field: str = "next_page",
) -> Iterator[Page]:
    """Every page of a `{data, has_more, <next_field>}` listing, first to last, passing the cursor as `cursor_param`.

    Usage reports page by `next_page` → `page`; the providers' key and user lists by `last_id` → `after_id`
    (Anthropic) or `after` (OpenAI). A cursor seen before, or `has_more` without a cursor, is a PullError:
    never an endless loop.
    """
    seen: set[str] = set()
    cursor: str | None = None
    number = 0
    while True:
        number += 1
        query = [*params, *([(cursor_param, cursor)] if cursor else [])]
        body = get_once(client, endpoint, query, policy)
        yield Page(body, number, _request(endpoint, query))
        try:
            doc = json.loads(body)
            has_more, cursor = bool(doc.get("has_more")), doc.get(next_field)
        except (ValueError, AttributeError) as exc:
            raise PullError(f"{endpoint.source}: page {number} of {endpoint.path} is not a JSON object") from exc
        if not has_more:
            return
        if not isinstance(cursor, str) or not cursor:
            raise PullError(f"{endpoint.source}: page {number} of {endpoint.path} has has_more but no {next_field}")
        if cursor in seen:
            raise PullError(
                f"{endpoint.source}: {endpoint.path} repeated the cursor {cursor!r} after page {number}; "
                "stopped rather than loop"
            )
        seen.add(cursor)


def _request(endpoint: Endpoint, query: Sequence[tuple[str, str]]) -> dict[str, object]:
    """The request parameters as the manifest records them: repeated keys become lists."""
    out: dict[str, object] = {"path": endpoint.path}
    for key, value in query:
        if key.endswith("[]") or key in endpoint.list_keys:
            name = key.removesuffix("[]")
            out.setdefault(name, [])
            out[name].append(value)  # type: ignore[union-attr]
        else:
            out[key] = value
    return out
