"""Configuration: packaged defaults, overridden by ./tokencomp.toml or $TOKENCOMP_CONFIG.

Zero config works. Paths resolve against the current directory so `tokencomp` runs anywhere and keeps
its data in ./data. Secrets are never read from config, only from environment variables.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from transforms.common import DEFAULT_MEMORY_SHARE, EngineLimits, configure_engine, machine_memory
from transforms.sources import default_roles, source_ids

CONFIG_ENV = "TOKENCOMP_CONFIG"


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or inconsistent (exit code 1)."""


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@dataclass(frozen=True)
class ClientConfig:
    """One provider API as config reaches it (`[clients.<provider>]` over `[clients]`): URL, timeouts, retry waits."""

    base_url: str
    timeout_seconds: float
    max_request_seconds: float
    backoff_initial_seconds: float
    backoff_max_seconds: float


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one process: where data lives and how sources play their spend roles."""

    data_dir: Path
    first_partition_date: date
    timezone: str
    enabled_sources: tuple[str, ...]
    max_rejected_share: float
    roles: dict[str, dict[str, str]]
    benchmark_company: str
    price_overrides: Path | None = None
    fx_max_rate_age_days: int = 7
    max_file_bytes: int = 20 * 1024**3
    max_inflated_bytes: int = 100 * 1024**3
    max_inflation_ratio: int = 200
    clients: dict[str, ClientConfig] = field(default_factory=dict)
    engine: EngineLimits = field(default_factory=EngineLimits.for_machine)

    @property
    def landing(self) -> Path:
        """The inbox: one folder per source id (and per reference kind)."""
        return self.data_dir / "landing"

    @property
    def raw(self) -> Path:
        """Immutable accepted deliveries, named by sha256, plus the append-only manifest."""
        return self.data_dir / "raw"

    @property
    def quarantine(self) -> Path:
        """Files that could not be read, each with a reason."""
        return self.data_dir / "quarantine"

    @property
    def lake(self) -> Path:
        """Canonical Parquet, hive-partitioned by billing_date."""
        return self.data_dir / "lake"

    @property
    def reference(self) -> Path:
        """Validated roster, aliases, scopes and salary files."""
        return self.data_dir / "reference"

    @property
    def scratch(self) -> Path:
        """Scratch space of ingest and normalize (inflated files); whatever a killed process left is swept."""
        return self.data_dir / "_tmp"

    @property
    def parsed_lines(self) -> Path:
        """Validated lines ingest kept for the lake build (a cache keyed by sha256: deleting it costs a re-parse)."""
        return self.data_dir / "_parsed"

    @property
    def warehouse_path(self) -> Path:
        """The published finance warehouse (full view)."""
        return self.data_dir / "warehouse.duckdb"

    @property
    def build_dir(self) -> Path:
        """Scratch space where the next warehouse is built before `os.replace` publishes it."""
        return self.data_dir / "_build"

    @property
    def billed_providers(self) -> tuple[str, ...]:
        """Providers whose spend is allocated from a billed source."""
        return tuple(sorted(p for p, roles in self.roles.items() if roles.get("billed")))

    def role_of(self, source: str) -> str:
        """`billed`, `metered` or `observational` for a source, from the per-provider config."""
        for roles in self.roles.values():
            if roles.get("billed") == source:
                return "billed"
            if roles.get("metered") == source:
                return "metered"
        return "observational"


def _max_rate_age(value: object) -> int:
    """`fx.max_rate_age_days`: how many days a rate may be older than the billing day it converts."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"fx.max_rate_age_days must be a whole number of days >= 0, not {value!r}")
    return value


def load_settings(path: Path | None = None, data_dir: str | Path | None = None) -> Settings:
    """Read packaged defaults, then the override file: `path`, $TOKENCOMP_CONFIG or ./tokencomp.toml.

    `data_dir` (the CLI's --data-dir) overrides `paths.data_dir`.
    """
    raw: dict[str, Any] = tomllib.loads(files("pipelines").joinpath("default_config.toml").read_text())
    override = path or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else Path("tokencomp.toml"))
    if path is not None or os.environ.get(CONFIG_ENV) or override.exists():
        try:
            raw = _merge(raw, tomllib.loads(override.read_text()))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file not found: {override}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{override}: {exc}") from exc
    try:
        pipeline = raw["pipeline"]
        ZoneInfo(pipeline["timezone"])
        settings = Settings(
            data_dir=Path(data_dir or raw["paths"]["data_dir"]).expanduser().resolve(),
            first_partition_date=date.fromisoformat(str(pipeline["first_partition_date"])),
            timezone=pipeline["timezone"],
            enabled_sources=tuple(pipeline.get("enabled_sources", source_ids())),
            max_rejected_share=float(pipeline["max_rejected_share"]),
            roles=_roles(raw.get("roles", {})),
            benchmark_company=raw["bands"]["benchmark_company"],
            price_overrides=Path(raw["pricing"]["overrides_file"]).expanduser().resolve()
            if raw["pricing"]["overrides_file"]
            else None,
            fx_max_rate_age_days=_max_rate_age(raw.get("fx", {}).get("max_rate_age_days", 7)),
            max_file_bytes=_positive(raw["ingest"], "max_file_bytes"),
            max_inflated_bytes=_positive(raw["ingest"], "max_inflated_bytes"),
            max_inflation_ratio=_positive(raw["ingest"], "max_inflation_ratio", "times"),
            clients=_clients(raw.get("clients", {})),
        )
        settings = replace(settings, engine=_engine(raw.get("duckdb", {}), settings.scratch))
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"invalid configuration: {exc}") from exc
    configure_engine(settings.engine)  # every DuckDB connection of this process runs within these
    return settings


_SIZE_UNITS = {"": 1, "b": 1, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def _engine(section: dict[str, Any], scratch: Path) -> EngineLimits:
    """`[duckdb]`: memory_limit ("auto" = a share of this machine's RAM, or e.g. "4GiB"), threads (0 = every
    CPU) and temp_directory ("" = a per-process folder in <data_dir>/_tmp/, swept when its process is gone)."""
    memory = section.get("memory_limit", "auto")
    if memory == "auto":
        limit = int(machine_memory() * DEFAULT_MEMORY_SHARE)
    else:
        text = str(memory).strip().lower().replace(" ", "")
        number = text.rstrip("kmgtib")
        unit = text[len(number) :]
        if not number.isdigit() or unit not in _SIZE_UNITS or int(number) == 0:
            raise ConfigError(
                f'invalid configuration: duckdb.memory_limit must be "auto" or a size like "4GiB", not {memory!r}'
            )
        limit = int(number) * _SIZE_UNITS[unit]
    threads = section.get("threads", 0)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise ConfigError(f"invalid configuration: duckdb.threads must be a whole number >= 0, not {threads!r}")
    temp = section.get("temp_directory", "")
    folder = Path(temp).expanduser().resolve() if temp else scratch / f"duckdb-{os.getpid()}-spill"
    return EngineLimits(limit, threads or os.cpu_count() or 1, folder)


def _roles(configured: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Per provider, the billed and metered source: the specs' default spend roles, overridden by config."""
    roles = default_roles()
    for provider, given in configured.items():
        roles[provider] = {**roles.get(provider, {}), **dict(given)}
    return roles


def _positive(section: dict[str, Any], key: str, unit: str = "bytes") -> int:
    value = section[key]
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(
            f"invalid configuration: ingest.{key} must be a positive whole number of {unit}, not {value!r}"
        )
    return value


_CLIENT_NUMBERS = ("timeout_seconds", "max_request_seconds", "backoff_initial_seconds", "backoff_max_seconds")


def _clients(section: dict[str, Any]) -> dict[str, ClientConfig]:
    """Per provider API, its base URL and the shared request limits (a provider's table may override them)."""
    shared = {k: v for k, v in section.items() if not isinstance(v, dict)}
    out: dict[str, ClientConfig] = {}
    for provider, own in section.items():
        if not isinstance(own, dict):
            continue
        merged = {**shared, **own}
        for key in _CLIENT_NUMBERS:
            value = merged[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ConfigError(
                    f"invalid configuration: clients.{provider}.{key} must be a number >= 0, not {value!r}"
                )
        url = merged["base_url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ConfigError(f"invalid configuration: clients.{provider}.base_url must be an http(s) URL, not {url!r}")
        out[provider] = ClientConfig(url.rstrip("/"), *(float(merged[k]) for k in _CLIENT_NUMBERS))
    return out
