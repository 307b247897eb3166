"""Provider API pullers, one module per API, and which source each one pulls.

A puller is a Dagster `ConfigurableResource` whose key comes from an environment variable (`EnvVar`)
and whose base URL and request limits come from `[clients.<provider>]` in config.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date

import dagster as dg

from pipelines.clients import anthropic
from pipelines.clients.http import AuthRefused, Page, PullError
from pipelines.config import Settings
from transforms.sources import spec, specs

__all__ = ["AuthRefused", "PullError", "key_env", "pages", "provider_api", "pullable", "puller"]

# a spec's `api` prefix -> (the config provider of its base URL, the key variable, the resource class)
_CLIENTS = {"anthropic": ("anthropic", anthropic.KEY_ENV, anthropic.AnthropicAdminClient)}


def pullable() -> tuple[str, ...]:
    """The source ids `tokencomp pull` can fetch from a provider API (their spec names an `api`)."""
    return tuple(s.id for s in specs() if s.api and s.api.split(":")[0] in _CLIENTS)


def _api(source: str) -> tuple[str, str]:
    client, _, endpoint = (spec(source).api or "").partition(":")
    return client, endpoint


def key_env(source: str) -> str:
    """The environment variable the key for `source` comes from."""
    return _CLIENTS[_api(source)[0]][1]


def provider_api(source: str) -> str:
    """The provider API `source` is pulled from (its `[clients.<provider>]`): one key, one rate limit, one pool."""
    return _CLIENTS[_api(source)[0]][0]


def puller(settings: Settings, source: str) -> dg.ConfigurableResource:
    """The configured puller resource for `source`, its key bound as `EnvVar` (resolved when initialised)."""
    provider, env, resource = _CLIENTS[_api(source)[0]]
    c = settings.clients[provider]
    return resource(
        api_key=dg.EnvVar(env),
        base_url=c.base_url,
        timeout_seconds=c.timeout_seconds,
        max_request_seconds=c.max_request_seconds,
        backoff_initial_seconds=c.backoff_initial_seconds,
        backoff_max_seconds=c.backoff_max_seconds,
    )


def pages(settings: Settings, source: str, start: date, end: date) -> Iterator[Page]:
    """Every page of `source` for start..end, outside a Dagster run (the CLI). Needs the key in the environment."""
    if not os.environ.get(key_env(source)):
        raise AuthRefused(f"{source}: no credentials: set {key_env(source)} to pull it")
    client = puller(settings, source).process_config_and_initialize()
    yield from client.pages(source, _api(source)[1], start, end)
