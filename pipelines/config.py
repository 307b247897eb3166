"""Configuration: packaged defaults, overridden by ./tokencomp.toml or $TOKENCOMP_CONFIG.

Zero config works. Paths resolve against the current directory so `tokencomp` runs anywhere and keeps
its data in ./data. Secrets are never read from config, only from environment variables.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
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
class BandSettings:
    """`[bands]`: how engineers meet market pay bands (docs/salaries.md, "Matching engineers to bands")."""

    min_n: int = 5
    peers: tuple[str, ...] = ()
    level_map: dict[str, str] = field(default_factory=dict)  # internal level -> benchmark ladder level
    location_map: dict[str, str] = field(default_factory=dict)  # roster office -> band location
    title_map: dict[str, str] = field(default_factory=dict)  # roster title -> band title
    wage_growth: bool = False  # lift old submissions by wage_index (off by default)
    wage_index: dict[int, str] = field(default_factory=dict)  # year -> index level (decimal text)


def _bands(section: dict[str, Any]) -> BandSettings:
    """Read and check `[bands]` (besides benchmark_company)."""
    min_n = section.get("min_n", 5)
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 1:
        raise ValueError(f"bands.min_n must be a whole number >= 1, not {min_n!r}")
    maps = {}
    for name in ("level_map", "location_map", "title_map"):
        given = section.get(name, {})
        if not isinstance(given, dict) or not all(isinstance(v, str) for v in given.values()):
            raise ValueError(f"bands.{name} must map names to names (strings)")
        maps[name] = {str(k): v for k, v in given.items()}
    growth = section.get("wage_growth", {})
    index = {int(year): str(value) for year, value in growth.get("index", {}).items()}
    if any(not value.replace(".", "", 1).isdigit() or float(value) <= 0 for value in index.values()):
        raise ValueError("bands.wage_growth.index values must be positive numbers")
    enabled = bool(growth.get("enabled", False))
    if enabled and not index:
        raise ValueError("bands.wage_growth.enabled needs bands.wage_growth.index (year = index level)")
    return BandSettings(
        min_n=min_n,
        peers=tuple(str(p) for p in section.get("peers", ())),
        wage_growth=enabled,
        wage_index=index,
        **maps,
    )


@dataclass(frozen=True)
class AlertRule:
    """One rule of `[[alerts.rules]]`: its name, kind (`run_rate_share_of_base` or `month_over_month`), threshold,
    and for month-over-month rules the previous month's minimum spend. Numbers are decimal text, never floats."""

    rule: str
    kind: str
    threshold: str
    min_previous_usd: str | None = None


@dataclass(frozen=True)
class ScheduleSettings:
    """`[schedule]`: when the nightly pull starts and when month-end closes the previous month (local times)."""

    nightly_at: str = "03:00"
    timezone: str = "UTC"
    month_close_day: int = 5
    month_close_at: str = "06:00"
    landing_settle_seconds: int = 60


ALERT_KINDS = ("run_rate_share_of_base", "month_over_month")
DEFAULT_ALERT_RULES = (
    AlertRule("run_rate_half_base", "run_rate_share_of_base", "0.5"),
    AlertRule("spend_over_base", "run_rate_share_of_base", "1.0"),
    AlertRule("month_over_month_jump", "month_over_month", "3", "50"),
)


WARN_CHECKS = ("unpriced_models", "freshness", "unattributed_share", "row_count_anomaly", "invoice_gap")


@dataclass(frozen=True)
class CheckSettings:
    """`[checks]`: thresholds of the WARN checks, and which of them block instead (pipelines/defs/checks.py)."""

    freshness_days: dict[str, int] = field(default_factory=dict)  # source -> days ("" = every source)
    unattributed_share: Decimal = Decimal("0.2")
    row_count_tolerance: float = 0.5
    row_count_weeks: int = 4
    row_count_min_rows: int = 100
    blocking: tuple[str, ...] = ()

    def stale_after(self, source: str) -> int:
        """Days a source's data may end before today before `freshness` warns (`[checks.<source>]` or `[checks]`)."""
        return self.freshness_days.get(source, self.freshness_days.get("", 2))


def _checks(section: dict[str, Any]) -> CheckSettings:
    """Read and check `[checks]` (whole days, a share from 0 to 1, known WARN check names)."""
    days: dict[str, int] = {}
    for name, table in [("", section), *((k, v) for k, v in section.items() if isinstance(v, dict))]:
        if name and name not in source_ids():
            raise ValueError(f"[checks.{name}]: unknown source (see `tokencomp sources`)")
        if "freshness_days" in table:
            days[name] = _whole(table, f"checks.{name}" if name else "checks", "freshness_days")
    try:
        share = Decimal(str(section.get("unattributed_share", "0.2")))
    except ArithmeticError:
        share = Decimal(-1)
    tolerance = section.get("row_count_tolerance", 0.5)
    if not 0 <= share <= 1 or isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or tolerance < 0:
        raise ValueError("checks.unattributed_share must be a share from 0 to 1 and checks.row_count_tolerance >= 0")
    blocking = tuple(str(b) for b in section.get("blocking", ()))
    if unknown := [b for b in blocking if b not in WARN_CHECKS]:
        raise ValueError(f"checks.blocking: {unknown[0]!r} is not a WARN check ({', '.join(WARN_CHECKS)})")
    counts = {
        "row_count_weeks": section.get("row_count_weeks", 4),
        "row_count_min_rows": section.get("row_count_min_rows", 100),
    }
    weeks, min_rows = (_whole(counts, "checks", key) for key in counts)
    return CheckSettings(days, share, float(tolerance), weeks, min_rows, blocking)


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
    bands: BandSettings = field(default_factory=BandSettings)
    invoice_tolerance_usd: Decimal = Decimal("1.00")
    short_window_days: int = 14
    alert_rules: tuple[AlertRule, ...] = DEFAULT_ALERT_RULES
    pseudonym_key_env: str = "TOKENCOMP_PSEUDONYM_KEY"
    privacy_k: int = 5
    repull_days: dict[str, int] = field(default_factory=dict)
    pull_retry_delay_seconds: float = 30.0
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    engine: EngineLimits = field(default_factory=EngineLimits.for_machine)
    checks: CheckSettings = field(default_factory=CheckSettings)

    def repull_window(self, source: str) -> int:
        """Trailing days a nightly pull of `source` fetches again before the run's days (`[pull]`, default 3)."""
        return self.repull_days.get(source, self.repull_days.get("", 3))

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
    def analyst_path(self) -> Path:
        """The published pseudonymous analyst file (same marts, no names, emails or engineer ids)."""
        return self.data_dir / "analyst.duckdb"

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
            bands=_bands(raw["bands"]),
            invoice_tolerance_usd=_tolerance(raw.get("invoices", {}).get("tolerance_usd", "1.00")),
            short_window_days=_whole(raw["alerts"], "alerts", "short_window_days"),
            alert_rules=_alert_rules(raw["alerts"].get("rules", [])),
            pseudonym_key_env=str(raw["privacy"]["pseudonym_key_env"]),
            privacy_k=_whole(raw["privacy"], "privacy", "k"),
            repull_days=_repull_days(raw.get("pull", {})),
            pull_retry_delay_seconds=_seconds(raw.get("pull", {}), "retry_delay_seconds", 30.0),
            schedule=_schedule(raw.get("schedule", {})),
            checks=_checks(raw.get("checks", {})),
        )
        settings = replace(settings, engine=_engine(raw.get("duckdb", {}), settings.scratch))
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"invalid configuration: {exc}") from exc
    configure_engine(settings.engine)  # every DuckDB connection of this process runs within these
    return settings


def _tolerance(value: object) -> Decimal:
    """`invoices.tolerance_usd`: how far an invoice may be from billed spend before the tie-out warns."""
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        amount = Decimal(-1)
    if isinstance(value, bool) or not amount.is_finite() or amount < 0:
        raise ValueError(f"invoices.tolerance_usd must be an amount of USD >= 0, not {value!r}")
    return amount


def _whole(section: dict[str, Any], name: str, key: str) -> int:
    value = section[key]
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name}.{key} must be a positive whole number, not {value!r}")
    return value


def _decimal_text(rule: str, key: str, value: object) -> str:
    try:
        return str(Decimal(str(value)))
    except InvalidOperation:
        raise ValueError(f"alerts.rules {rule!r}: {key} must be a number, not {value!r}") from None


def _alert_rules(given: list[dict[str, Any]]) -> tuple[AlertRule, ...]:
    """`[[alerts.rules]]`, checked: known kinds, unique names, thresholds as decimal text."""
    rules: list[AlertRule] = []
    for entry in given:
        rule = AlertRule(
            rule=str(entry["rule"]),
            kind=str(entry["kind"]),
            threshold=_decimal_text(str(entry["rule"]), "threshold", entry["threshold"]),
            min_previous_usd=_decimal_text(str(entry["rule"]), "min_previous_usd", entry["min_previous_usd"])
            if "min_previous_usd" in entry
            else None,
        )
        if rule.kind not in ALERT_KINDS:
            raise ValueError(
                f"alerts.rules {rule.rule!r}: kind must be one of {', '.join(ALERT_KINDS)}, not {rule.kind!r}"
            )
        if rule.rule in {r.rule for r in rules}:
            raise ValueError(f"alerts.rules: rule {rule.rule!r} is defined twice")
        rules.append(rule)
    return tuple(rules)


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


def _repull_days(section: dict[str, Any]) -> dict[str, int]:
    """`[pull] repull_days` (key "") and each `[pull.<source>] repull_days`: whole days >= 0."""
    out: dict[str, int] = {}
    for name, table in [("", section), *((k, v) for k, v in section.items() if isinstance(v, dict))]:
        if name and name not in source_ids():
            raise ConfigError(f"invalid configuration: [pull.{name}]: unknown source (see `tokencomp sources`)")
        if "repull_days" in table:
            value = table["repull_days"]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                where = f"pull.{name}.repull_days" if name else "pull.repull_days"
                raise ConfigError(f"invalid configuration: {where} must be a whole number of days >= 0, not {value!r}")
            out[name] = value
    return out


def _seconds(section: dict[str, Any], key: str, default: float) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"invalid configuration: pull.{key} must be a number of seconds >= 0, not {value!r}")
    return float(value)


def _schedule(section: dict[str, Any]) -> ScheduleSettings:
    """`[schedule]`: times as "HH:MM" in `timezone` (an IANA name), the close day of the month 1-28."""
    given = ScheduleSettings(**{k: section[k] for k in ScheduleSettings.__dataclass_fields__ if k in section})
    for key in ("nightly_at", "month_close_at"):
        text = getattr(given, key)
        hour, _, minute = str(text).partition(":")
        if not (hour.isdigit() and minute.isdigit() and len(minute) == 2 and int(hour) < 24 and int(minute) < 60):
            raise ValueError(f'schedule.{key} must be a time "HH:MM", not {text!r}')
    try:
        ZoneInfo(str(given.timezone))
    except (ValueError, KeyError):
        raise ValueError(f"schedule.timezone: unknown time zone {given.timezone!r}") from None
    day = given.month_close_day
    if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 28:
        raise ValueError(f"schedule.month_close_day must be a day 1-28, not {day!r}")
    settle = given.landing_settle_seconds
    if isinstance(settle, bool) or not isinstance(settle, int) or settle < 0:
        raise ValueError(f"schedule.landing_settle_seconds must be a whole number of seconds >= 0, not {settle!r}")
    return given
