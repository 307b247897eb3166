"""The code location loads, every asset is documented, and the layering rules hold."""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.clients import pullable
from pipelines.config import load_settings
from pipelines.definitions import build_definitions, defs
from pipelines.defs.partitions import billing_days
from pipelines.defs.resources import TokencompResource
from pipelines.services.warehouse import build_inputs
from transforms.sources import source_ids
from warehouse.build import build

ROOT = Path(__file__).resolve().parents[2]


def test_definitions_load_with_the_nightly_job_and_schedule() -> None:
    dg.Definitions.validate_loadable(defs)
    job = defs.resolve_job_def("nightly")
    assert job.partitions_def is not None
    schedule = defs.resolve_schedule_def("nightly_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 3 * * *", "UTC")
    # 03:00 starts the pulls; the build follows the pull run however it ends (two run-status sensors)
    assert schedule.job_name == "pull" and defs.resolve_job_def("pull").partitions_def is not None
    sensors = {name: defs.resolve_sensor_def(name) for name in ("build_after_pull", "build_after_failed_pull")}
    assert {name: s.job_name for name, s in sensors.items()} == {
        "build_after_pull": "nightly",
        "build_after_failed_pull": "nightly",
    }


def published_tables(path: Path) -> list[tuple[str, str]]:
    """(schema, table) of every table a real (schema-only) warehouse build publishes."""
    build(build_inputs(None), path)
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql("select schema_name, table_name from duckdb_tables() order by all").fetchall()


def test_every_asset_has_a_business_description_group_owner_and_kind(tmp_path: Path) -> None:
    keys = set()
    for asset in defs.resolve_all_asset_specs():
        keys.add(asset.key.to_user_string())
        assert asset.description and len(asset.description) > 40, asset.key
        assert asset.group_name in {"raw", "reference", "lake", "warehouse", "marts", "exports"}, asset.key
        assert asset.owners and asset.kinds, asset.key
    assert keys == {
        *(f"pull/{source}" for source in pullable()),
        "pull/anthropic_identity",  # each provider's own key and user lists
        "pull/openai_identity",
        *(f"raw/{source}" for source in source_ids()),
        "reference/files",
        "lake/usage",
        *(f"{schema}/{table}" for schema, table in published_tables(tmp_path / "warehouse.duckdb")),
        "exports/closed_books",  # the monthly finance outputs
        "exports/chargeback",
        "exports/reconciliation",
        "exports/focus",
    }


def test_partitions_are_daily_utc_from_the_configured_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOKENCOMP_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert billing_days(load_settings()).start.date().isoformat() == "2024-01-01"
    assert billing_days(load_settings()).timezone == "UTC"
    config = tmp_path / "other.toml"
    config.write_text('[pipeline]\nfirst_partition_date = "2025-06-01"\n')
    assert billing_days(load_settings(config)).get_first_partition_key() == "2025-06-01"


def test_the_jobs_partitions_follow_the_resources_config_not_the_import_time_one(tmp_path: Path) -> None:
    """`--config` with another first day: every partitioned job of that run starts on that day."""
    config = tmp_path / "other.toml"
    config.write_text('[pipeline]\nfirst_partition_date = "2025-06-01"\n')
    other = build_definitions(TokencompResource(config_path=str(config), data_dir=str(tmp_path / "data")))
    for job in ("pull", "nightly"):
        partitions = other.resolve_job_def(job).partitions_def
        assert partitions is not None and partitions.get_first_partition_key() == "2025-06-01", job
    assert defs.resolve_job_def("nightly").partitions_def.get_first_partition_key() == "2024-01-01"
    for job in ("close", "reprice", "month_close"):  # the monthly finance jobs: months from that day's month
        partitions = other.resolve_job_def(job).partitions_def
        assert partitions is not None and partitions.get_first_partition_key() == "2025-06", job


def test_transforms_and_warehouse_never_import_dagster() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for folder in ("transforms", "warehouse")
        for p in (ROOT / folder).rglob("*.py")
        if re.search(r"^\s*(import|from)\s+(dagster|pipelines)\b", p.read_text(), re.M)
    ]
    assert offenders == []
