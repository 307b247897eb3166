"""Provider API pullers, one module per API, and which source each one pulls.

A puller is a Dagster `ConfigurableResource` whose key comes from an environment variable (`EnvVar`)
and whose base URL and request limits come from `[clients.<provider>]` in config.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date

import dagster as dg

from pipelines.clients import anthropic, openai
from pipelines.clients.http import AuthRefused, Page, PullError
from pipelines.config import Settings
from transforms.sources import spec, specs

__all__ = ["AuthRefused", "PullError", "identity_pages", "key_env", "pages", "provider_api", "pullable", "puller"]

# a spec's `api` prefix -> (the config provider of its base URL, the key variable, the resource class)
_CLIENTS = {
    "anthropic": ("anthropic", anthropic.KEY_ENV, anthropic.AnthropicAdminClient),
    "openai": ("openai", openai.KEY_ENV, openai.OpenAIAdminClient),
}


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
    return _resource(settings, _api(source)[0])


def _resource(settings: Settings, client: str) -> dg.ConfigurableResource:
    provider, env, resource = _CLIENTS[client]
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


def identity_pages(settings: Settings, provider: str, kind: str) -> Iterator[Page]:
    """Every page of a provider's own list of API keys (`kind="api_keys"`) or users (`"users"`), to the end.

    `provider` is "anthropic" (API keys with `created_by`; users) or "openai" (users; each project's API keys
    with `owner`). Pages are the API's bytes; `Page.request["path"]` names the list (for OpenAI keys, the
    project). Raises AuthRefused when the key variable is unset or refused, PullError after failed retries.
    """
    if provider not in _CLIENTS:
        raise ValueError(f"no API client for provider {provider!r} (one of: {', '.join(_CLIENTS)})")
    env = _CLIENTS[provider][1]
    if not os.environ.get(env):
        raise AuthRefused(f"{provider}_{kind}: no credentials: set {env} to pull it")
    client = _resource(settings, provider).process_config_and_initialize()
    yield from client.identity_pages(kind)
