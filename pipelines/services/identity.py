"""The providers' own API key and user lists → reference data → aliases, with no hand-written alias needed.

A pull of one list (Anthropic `api_keys` / `users`, OpenAI `users` / project `api_keys`) is a snapshot: its
pages are kept byte for byte as the API returned them under reference/identity/pages/<sha256>.json, and the
append-only reference/identity/manifest.jsonl records, per page, the provider, list, when it was pulled and
the request that fetched it (path and query, never a header, so never the admin key). Every snapshot is then
parsed again together (`transforms.identity`) into reference/pulled_identities.parquet, which the warehouse
turns into `core.dim_alias` rows of origin 'pulled'.

A snapshot is landed whole or not at all: a page that is not a JSON object with a `data` list stops it before
anything is written. Landing the same pages again at the same time, or pages identical to the pull just
before, changes nothing, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from pipelines.clients import anthropic, openai
from pipelines.clients.http import AuthRefused, Page, PullError
from pipelines.config import Settings
from pipelines.services.reference import PULLED_IDENTITIES, reference_frame
from pipelines.services.storage import append_jsonl, read_jsonl, replace_parquet
from transforms.identity import LISTS, PAGES_SCHEMA, PROVIDERS, identities_of, record_outcomes

# The admin key each provider's lists are pulled with (the same variable as its usage pullers).
KEY_ENVS: dict[str, str] = {"anthropic": anthropic.KEY_ENV, "openai": openai.KEY_ENV}
MANIFEST_SCHEMA = pl.Schema(
    {
        "provider": pl.String,
        "list": pl.String,
        "pulled_at": pl.String,  # ISO 8601, UTC
        "page": pl.Int64,
        "sha256": pl.String,
        "bytes": pl.Int64,
        "request": pl.String,  # JSON: the path and query parameters of the page's request
    }
)


class IdentityPageError(PullError):
    """A page of an identity list that is not a JSON object with a `data` list: the snapshot is not landed."""


@dataclass(frozen=True)
class IdentityOutcome:
    """What one snapshot of one list did: `landed`, or `unchanged` (the same as the pull just before it)."""

    provider: str
    list: str
    pulled_at: datetime
    status: str
    pages: int
    loaded: int
    filtered: int
    rejected: int
    identities: int
    problems: tuple[str, ...] = field(default_factory=tuple)

    def line(self) -> str:
        """One line for the terminal: provider, list, status and the record counts."""
        parsed = self.loaded + self.filtered + self.rejected
        return (
            f"{self.status:<10} {self.provider:<9} {self.list:<8} {self.pages} page(s)  parsed {parsed}, loaded "
            f"{self.loaded}, filtered {self.filtered}, rejected {self.rejected}; {self.identities} identities in all"
        )


def identity_dir(settings: Settings) -> Path:
    """Where pulled identity pages and their manifest live (under reference/)."""
    return settings.reference / "identity"


def manifest_path(settings: Settings) -> Path:
    """The append-only manifest of pulled identity pages."""
    return identity_dir(settings) / "manifest.jsonl"


def read_identity_manifest(settings: Settings) -> pl.DataFrame:
    """Every pulled identity page recorded so far, in the order they were landed."""
    return read_jsonl(manifest_path(settings)).frame(MANIFEST_SCHEMA)


def _check_page(provider: str, list_name: str, page: Page) -> None:
    try:
        doc = json.loads(page.body)
    except (UnicodeDecodeError, ValueError):
        doc = None
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise IdentityPageError(
            f"{provider} {list_name}: page {page.number} is not a JSON object with a 'data' list; nothing was written"
        )


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("pulled_at must be timezone-aware")
    return at.astimezone(UTC)


def _snapshots(manifest: pl.DataFrame, provider: str, list_name: str) -> dict[str, list[str]]:
    """The page hashes of each earlier snapshot of one list, by pulled_at (ISO text sorts in time order)."""
    rows = manifest.filter((pl.col("provider") == provider) & (pl.col("list") == list_name)).sort("pulled_at", "page")
    out: dict[str, list[str]] = {}
    for at, sha in rows.select("pulled_at", "sha256").iter_rows():
        out.setdefault(at, []).append(sha)
    return out


def land_identity_pages(
    settings: Settings, provider: str, kind: str, pages: Iterable[Page], pulled_at: datetime
) -> IdentityOutcome:
    """Keep one complete pull of one identity list (`kind` 'api_keys' or 'users') as reference data.

    The pages land byte for byte with a manifest row each, and reference/pulled_identities.parquet is derived
    again from every pull kept. No HTTP here: the nightly pull and a test both hand over the pages.
    """
    if provider not in PROVIDERS:
        raise ValueError(f"unknown identity provider {provider!r}; expected one of {', '.join(PROVIDERS)}")
    if kind not in LISTS:
        raise ValueError(f"unknown identity list {kind!r}; expected one of {', '.join(LISTS)}")
    fetched = list(pages)
    if not fetched:
        raise IdentityPageError(f"{provider} {kind}: the pull returned no page; nothing was written")
    for page in fetched:
        _check_page(provider, kind, page)
    at = _utc(pulled_at).isoformat(timespec="microseconds")  # fixed width: sorts in time order
    hashes = [hashlib.sha256(p.body).hexdigest() for p in fetched]
    earlier = _snapshots(read_identity_manifest(settings), provider, kind)
    before = [t for t in sorted(earlier) if t < at]
    if at in earlier and earlier[at] != hashes:
        raise ValueError(f"{provider} {kind}: a different pull is already recorded at {at}")
    same = earlier.get(at) == hashes or (bool(before) and earlier[before[-1]] == hashes)
    if not same:
        folder = identity_dir(settings) / "pages"
        folder.mkdir(parents=True, exist_ok=True)
        for page, sha in zip(fetched, hashes, strict=True):
            target = folder / f"{sha}.json"
            if not target.exists():
                tmp = folder / f".{sha}.tmp"
                tmp.write_bytes(page.body)
                os.replace(tmp, target)
        append_jsonl(
            manifest_path(settings),
            [
                {
                    "provider": provider,
                    "list": kind,
                    "pulled_at": at,
                    "page": number,
                    "sha256": sha,
                    "bytes": len(page.body),
                    "request": json.dumps(dict(page.request), sort_keys=True, default=str),
                }
                for number, (page, sha) in enumerate(zip(fetched, hashes, strict=True), start=1)
            ],
        )
    pages_kept = stored_pages(settings)
    if same:
        identities = reference_frame(settings, PULLED_IDENTITIES)
    else:
        identities = identities_of(pages_kept)
        replace_parquet(identities, settings.reference / f"{PULLED_IDENTITIES}.parquet")
    # an unchanged pull reports the counts of the identical one it matched
    snapshot_at = datetime.fromisoformat(at if not same or at in earlier else before[-1])
    mine = record_outcomes(
        pages_kept.filter(
            (pl.col("provider") == provider) & (pl.col("list") == kind) & (pl.col("pulled_at") == snapshot_at)
        )
    )
    counts = dict(mine.group_by("outcome").len().iter_rows())
    problems = tuple(
        f"{provider} {kind} page {r['file']} record {r['record_no']}: field {r['field']!r}: {r['reason']}"
        for r in mine.filter(pl.col("outcome") == "rejected").iter_rows(named=True)
    )
    return IdentityOutcome(
        provider=provider,
        list=kind,
        pulled_at=_utc(pulled_at),
        status="unchanged" if same else "landed",
        pages=len(fetched),
        loaded=counts.get("loaded", 0),
        filtered=counts.get("filtered", 0),
        rejected=counts.get("rejected", 0),
        identities=identities.height,
        problems=problems,
    )


def stored_pages(settings: Settings) -> pl.DataFrame:
    """Every kept page of every pull of the identity lists (`transforms.identity.PAGES_SCHEMA`), each file read once."""
    manifest = read_identity_manifest(settings)
    folder = identity_dir(settings) / "pages"
    bodies = {sha: (folder / f"{sha}.json").read_bytes().decode("utf-8") for sha in manifest["sha256"].unique()}
    pages = manifest.select(
        "provider",
        "list",
        pl.col("pulled_at").str.to_datetime(time_zone="UTC", time_unit="us"),
        "page",
        (pl.col("sha256") + ".json").alias("file"),
        pl.col("sha256").replace_strict(bodies, default=None, return_dtype=pl.String).alias("body"),
    ).unique(subset=["provider", "list", "pulled_at", "page"], keep="first", maintain_order=True)
    return pages.cast(dict(PAGES_SCHEMA))  # type: ignore[arg-type]


def pull_identity(settings: Settings, provider: str, *, pulled_at: datetime | None = None) -> list[IdentityOutcome]:
    """Pull the users and API keys lists of `provider` and land each as a snapshot (the nightly run calls this).

    Needs the provider's admin key in the environment (`KEY_ENVS`); without it raises `AuthRefused` naming the
    variable. Raises `PullError` when a list cannot be pulled after retries; a list already landed stays.
    """
    from pipelines.clients import identity_pages

    if provider not in KEY_ENVS:
        raise ValueError(f"unknown identity provider {provider!r}; expected one of {', '.join(KEY_ENVS)}")
    key = os.environ.get(KEY_ENVS[provider], "")
    if not key:
        raise AuthRefused(f"{provider} identity: no credentials: set {KEY_ENVS[provider]} to pull it")
    at = pulled_at or datetime.now(UTC)
    outcomes = []
    for list_name in ("users", "api_keys"):  # users first: an Anthropic key names its creator by user id
        pages = list(identity_pages(settings, provider, list_name))
        if any(key.encode() in p.body or key in json.dumps(dict(p.request), default=str) for p in pages):
            raise PullError(f"{provider} {list_name}: a page carries the admin key; refused to store it")
        outcomes.append(land_identity_pages(settings, provider, list_name, pages, at))
    return outcomes


def providers_with_credentials() -> tuple[str, ...]:
    """The providers whose admin key is set, so their identity lists can be pulled (the rest are skipped)."""
    return tuple(p for p, env in KEY_ENVS.items() if os.environ.get(env))


@dataclass(frozen=True)
class IdentityPullReport:
    """One pull of every provider's identity lists: what landed, who was skipped (no key), what failed."""

    outcomes: list[IdentityOutcome]
    skipped: list[str]  # one warning line per provider without credentials
    failures: list[str]  # one line per provider whose pull failed (refused key, failure after retries)

    def failure_line(self) -> str:
        """The first failure, and how many providers failed in all when more than one did."""
        more = f" ({len(self.failures)} providers failed)" if len(self.failures) > 1 else ""
        return self.failures[0] + more


def pull_identities(settings: Settings, providers: Sequence[str] | None = None) -> IdentityPullReport:
    """Pull the identity lists of every provider whose key is set (the others are skipped with a warning), or of
    the `providers` named (then a missing key is a failure). A failing provider does not stop the others."""
    report = IdentityPullReport([], [], [])
    for provider in providers or list(KEY_ENVS):
        if not providers and provider not in providers_with_credentials():
            report.skipped.append(f"{provider}: {KEY_ENVS[provider]} is not set; its key and user lists were skipped")
            continue
        try:
            report.outcomes.extend(pull_identity(settings, provider))
        except PullError as exc:
            report.failures.append(str(exc))
    return report


CLI_DESCRIPTION = (
    "Pull the Anthropic API keys (with their creator) and users, and the OpenAI users and project API keys (with "
    "their owner), and keep each list's pages byte for byte under reference/identity/. Key ids, Anthropic key names "
    "and user ids then resolve to the owner's engineer through the roster email, with no hand-written alias; a hand "
    "alias or a declared shared route overrides a pulled one. Keys come only from the environment ("
    + ", ".join(f"{p}: {v}" for p, v in KEY_ENVS.items())
    + "). Without --provider every provider whose key is set is pulled and the others are skipped with a warning; "
    "a named provider without its key, a refused key or a failure after retries exits 2."
)
