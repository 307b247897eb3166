"""Build and publish the warehouse from the current lake and reference data (no Dagster here)."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path

from pipelines.config import DEFAULT_ALERT_RULES, AlertRule, BandSettings, Settings
from pipelines.services.lake import lake_files
from pipelines.services.reference import CASE_INSENSITIVE_KINDS, KINDS, reference_frame
from pipelines.services.salaries import band_params
from pipelines.summary import shown_path
from transforms.schema import USAGE_SCHEMA
from warehouse.analyst import build_analyst, publish_analyst
from warehouse.analyst_delta import can_update, key_fingerprint, update_analyst
from warehouse.build import BuildInputs, BuildReport, build, publish
from warehouse.incremental import (
    FULL,
    analyst_reusable,
    current_state,
    forget_state,
    partition_day,
    plan,
    read_state,
    write_state,
)


def warehouse_params(
    benchmark_company: str,
    bands: BandSettings | None = None,
    *,
    short_window_days: int = 14,
    alert_rules: Sequence[AlertRule] = DEFAULT_ALERT_RULES,
) -> dict[str, object]:
    """The `$parameters` every warehouse SQL model may use (no month closed unless the caller says so)."""
    return {
        "benchmark_company": benchmark_company,
        **band_params(benchmark_company, bands or BandSettings()),
        "short_window_days": short_window_days,
        "alert_rules": [asdict(r) for r in alert_rules],
        "case_insensitive_kinds": list(CASE_INSENSITIVE_KINDS),
        "closed_months": [],
        "open_month": None,
    }


def books_dir(settings: Settings) -> Path:
    """Where closed months' frozen books live: closed/<YYYY-MM>/fct_spend.parquet, plus a log."""
    return settings.data_dir / "closed"


def frozen_path(settings: Settings, month: date) -> Path:
    """The frozen spend rows of a closed month."""
    return books_dir(settings) / month.strftime("%Y-%m") / "fct_spend.parquet"


def closed_months(settings: Settings) -> list[date]:
    """Every closed month (first days), oldest first."""
    return sorted(date.fromisoformat(f"{p.parent.name}-01") for p in books_dir(settings).glob("*/fct_spend.parquet"))


def month_end(month: date) -> date:
    """The last day of `month`."""
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def open_month(settings: Settings, closed: list[date]) -> date | None:
    """Where corrections of closed months are posted: the latest month with lake data that is still open,
    else the month after the last closed one."""
    months = {partition_day(p).replace(day=1) for p in lake_files(settings)}
    open_data = sorted(m for m in months if m not in closed)
    if open_data:
        return open_data[-1]
    return month_end(closed[-1]) + timedelta(days=1) if closed else None


def build_inputs(
    settings: Settings | None, lake: list[Path] | None = None, *, unfreeze: date | None = None
) -> BuildInputs:
    """What a build reads: the lake, stored references and closed months' books of `settings` (one month
    may be treated as open, for a re-price), or nothing at all (a schema-only build)."""
    if settings is None:
        return BuildInputs([], USAGE_SCHEMA, {k: s.to_frame() for k, s in KINDS.items()}, warehouse_params(""))
    closed = [m for m in closed_months(settings) if m != unfreeze]
    return BuildInputs(
        lake_files=lake if lake is not None else lake_files(settings),
        usage_schema=USAGE_SCHEMA,
        references={kind: reference_frame(settings, kind) for kind in KINDS},
        params={
            **warehouse_params(
                settings.benchmark_company,
                settings.bands,
                short_window_days=settings.short_window_days,
                alert_rules=settings.alert_rules,
            ),
            "closed_months": closed,
            "open_month": open_month(settings, closed),
        },
        closed_spend_files=[frozen_path(settings, m) for m in closed],
    )


def build_and_publish(
    settings: Settings, progress: Callable[[int, int], None] | None = None, *, full: bool = False
) -> BuildReport:
    """Build data/_build/warehouse.duckdb, check it ties out to the lake, then publish it with os.replace; and
    the pseudonymous data/analyst.duckdb beside it when the pseudonym key is in the environment (else one line
    says it was not built).

    When only some lake days changed since the published build (its recorded fingerprints say so), the build
    starts from a copy of the published file and recomputes only those days and months; anything else, or
    `full`, rebuilds everything. `progress(models_done, models_total)` is called after each model is built.
    """
    settings.scratch.mkdir(parents=True, exist_ok=True)  # DuckDB's spill folder lives there
    build_path = settings.build_dir / settings.warehouse_path.name
    inputs = build_inputs(settings)
    state = current_state(inputs.lake_files, inputs.references, inputs.params, inputs.closed_spend_files)
    previous = read_state(settings.warehouse_path)
    how = FULL if full else plan(previous, state, settings.warehouse_path, closed_months(settings))
    report = build(inputs, build_path, progress, how)
    key = os.environ.get(settings.pseudonym_key_env, "")
    fingerprint = key_fingerprint(key.encode(), settings.privacy_k) if key else ""
    analyst_build = settings.build_dir / settings.analyst_path.name
    reuse = report.plan.incremental and can_update() and analyst_reusable(previous, settings.analyst_path, fingerprint)
    if key and reuse:
        update_analyst(report, build_path, settings.analyst_path, analyst_build, key.encode(), settings.privacy_k)
    elif key:
        build_analyst(build_path, analyst_build, key.encode(), settings.privacy_k)
    forget_state(settings.warehouse_path)
    publish(build_path, settings.warehouse_path)
    if key:
        publish_analyst(analyst_build, settings.analyst_path)
        write_state(settings.warehouse_path, state, settings.analyst_path, fingerprint)
    else:
        write_state(settings.warehouse_path, state)
        print(
            f"analyst file not built: set {settings.pseudonym_key_env} to a secret key for its pseudonyms "
            f"({shown_path(settings.analyst_path)} is left as it was)",
            file=sys.stderr,
            flush=True,
        )
    return report


@contextmanager
def throwaway_pseudonym_key(settings: Settings, say: Callable[[str], None]) -> Iterator[None]:
    """For the demo's analyst file: a throwaway pseudonym key of its own while the block runs (and `say` so),
    unless the environment already has one."""
    env = settings.pseudonym_key_env
    if os.environ.get(env):
        yield
        return
    say(f"analyst file: pseudonyms under a throwaway key made for this demo ({env} is not set)")
    os.environ[env] = secrets.token_hex(32)
    try:
        yield
    finally:
        del os.environ[env]
