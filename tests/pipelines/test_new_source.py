"""A new source is a spec and a mapping, nothing else: two test-only sources (CSV and Parquet) are
registered from the test, parsed by the shared readers, ingested into raw/ and land in the lake.

The files such a source adds are exactly `tests/pipelines/tiny_sources/<id>.py` (its spec) and
`tests/pipelines/tiny_sources/<id>.sql` (its mapping); no other file of the project names it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from pipelines.config import Settings, load_settings
from pipelines.services.ingest import ingest, read_manifest
from pipelines.services.lake import build_window
from tests.pipelines.tiny_sources import tiny_batch_parquet, tiny_gateway_csv
from transforms.sources import register, source_ids, unregister

LANDED = datetime(2026, 3, 5, 6, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]

CSV = (
    "request_id,started_at,user,model,input_tokens,output_tokens\n"
    "req-1,2026-03-02T10:00:00Z,Ana@Example.com,gpt-4o-mini,1000,200\n"
    "req-2,2026-03-02T11:30:00Z,bo@example.com,gpt-4o-mini,-5,10\n"
    "req-3,2026-03-03T09:15:00Z,bo@example.com,gpt-4o-mini,4000,800\n"
)


@pytest.fixture
def tiny_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Register the two test-only sources; settings loaded afterwards enable them (zero config = all)."""
    for module in (tiny_gateway_csv, tiny_batch_parquet):
        register(module.SPEC)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOKENCOMP_CONFIG", raising=False)
    try:
        yield load_settings(data_dir=tmp_path / "data")
    finally:
        for module in (tiny_gateway_csv, tiny_batch_parquet):
            unregister(module.SPEC.id)


def _parquet(path: Path) -> Path:
    pl.DataFrame(
        {
            "job_id": ["job-7", "job-7", "job-8"],
            "day": [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 3)],
            "model": ["claude-sonnet-4-5"] * 3,
            "input_tokens": [10_000, 20_000, None],
            "output_tokens": [1_000, 2_000, 3_000],
        }
    ).write_parquet(path)
    return path


def test_registered_sources_are_enabled_listed_and_land_in_the_lake(tiny_sources: Settings, tmp_path: Path) -> None:
    settings = tiny_sources
    assert {"tiny_gateway_csv", "tiny_batch_parquet"} <= set(source_ids())
    assert {"tiny_gateway_csv", "tiny_batch_parquet"} <= set(settings.enabled_sources)
    assert settings.role_of("tiny_gateway_csv") == "observational"

    csv_file = tmp_path / "gateway.csv"
    csv_file.write_text(CSV)
    [csv_outcome] = ingest(settings, "tiny_gateway_csv", [csv_file], landed_at=LANDED)
    assert (csv_outcome.status, csv_outcome.parsed, csv_outcome.loaded, csv_outcome.rejected) == ("landed", 3, 2, 1)
    [pq_outcome] = ingest(settings, "tiny_batch_parquet", [_parquet(tmp_path / "jobs.parquet")], landed_at=LANDED)
    assert (pq_outcome.status, pq_outcome.parsed, pq_outcome.loaded, pq_outcome.rejected) == ("landed", 3, 2, 1)

    manifest = read_manifest(settings).sort("source")
    assert manifest.select("source", "min_date", "max_date", "parsed", "loaded", "rejected").rows() == [
        ("tiny_batch_parquet", date(2026, 3, 2), date(2026, 3, 3), 3, 2, 1),
        ("tiny_gateway_csv", date(2026, 3, 2), date(2026, 3, 3), 3, 2, 1),
    ]
    rejects = pl.read_ndjson(settings.raw / "rejects.jsonl").sort("file")
    assert rejects.select("file", "line", "field", "reason").rows() == [
        ("gateway.csv", 3, "input_tokens", "negative"),
        ("jobs.parquet", 3, "input_tokens", "null"),
    ]

    report = build_window(settings, date(2026, 3, 2), date(2026, 3, 3))
    assert report.rows_by_source == {"tiny_batch_parquet": 2, "tiny_gateway_csv": 2}
    lake = pl.read_parquet(settings.lake / "usage" / "*" / "*.parquet", hive_partitioning=True)
    got = lake.sort("source", "billing_date").select(
        "source",
        "billing_date",
        "provider",
        "publisher",
        "principal_id",
        "scope_id",
        "uncached_input_tokens",
        "output_tokens",
        "spend_role",
        "model",
    )
    assert got.rows() == [
        ("tiny_batch_parquet", date(2026, 3, 2), "anthropic", "anthropic", None, "batch-jobs", 10_000, 1_000,
         "observational", "claude-sonnet-4-5"),
        ("tiny_batch_parquet", date(2026, 3, 3), "anthropic", "anthropic", None, "batch-jobs", 20_000, 2_000,
         "observational", "claude-sonnet-4-5"),
        ("tiny_gateway_csv", date(2026, 3, 2), "openai", "openai", "ana@example.com", None, 1_000, 200,
         "observational", "gpt-4o-mini"),
        ("tiny_gateway_csv", date(2026, 3, 3), "openai", "openai", "bo@example.com", None, 4_000, 800,
         "observational", "gpt-4o-mini"),
    ]  # fmt: skip
    # priced by the catalog provider of each spec, by hand: Claude Sonnet 4.5 $3 in / $15 out per MTok
    # (the catalog has no batch price: standard), GPT-4o mini $0.15 in / $0.60 out per MTok
    mtok = Decimal(1_000_000)
    assert lake.sort("source", "billing_date")["list_cost_usd"].to_list() == [
        (10_000 * Decimal(3) + 1_000 * Decimal(15)) / mtok,
        (20_000 * Decimal(3) + 2_000 * Decimal(15)) / mtok,
        (1_000 * Decimal("0.15") + 200 * Decimal("0.60")) / mtok,
        (4_000 * Decimal("0.15") + 800 * Decimal("0.60")) / mtok,
    ]


def test_a_csv_without_a_required_column_is_quarantined_naming_the_column(
    tiny_sources: Settings, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text("request_id,started_at,user,model,input_tokens\nreq-1,2026-03-02T10:00:00Z,a@x.com,gpt-4o,1\n")
    [outcome] = ingest(tiny_sources, "tiny_gateway_csv", [broken], landed_at=LANDED)
    assert (outcome.status, outcome.reason) == ("quarantined", "broken.csv: field 'output_tokens': missing column")


def test_no_project_file_outside_the_tiny_sources_names_them() -> None:
    named = [
        str(p.relative_to(ROOT))
        for folder in ("pipelines", "transforms", "warehouse", "tests")
        for p in (ROOT / folder).rglob("*")
        if p.is_file()
        and p.suffix in (".py", ".sql", ".toml")
        and "tiny_sources" not in p.parts
        and p.name != Path(__file__).name
        and ("tiny_gateway_csv" in p.read_text() or "tiny_batch_parquet" in p.read_text())
    ]
    assert named == []


def test_zero_config_takes_sources_and_roles_from_the_registry_and_config_overrides_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOKENCOMP_CONFIG", raising=False)
    defaults = load_settings()
    assert defaults.enabled_sources == source_ids()
    assert defaults.roles == {
        "anthropic": {"billed": "anthropic_cost", "metered": "anthropic_usage"},
        "openai": {"billed": "openai_costs", "metered": "openai_usage"},
    }
    (tmp_path / "tokencomp.toml").write_text(
        '[pipeline]\nenabled_sources = ["openai_usage"]\n\n[roles.anthropic]\nmetered = "claude_code_logs"\n'
    )
    configured = load_settings()
    assert configured.enabled_sources == ("openai_usage",)
    assert configured.roles["anthropic"] == {"billed": "anthropic_cost", "metered": "claude_code_logs"}
    assert configured.role_of("claude_code_logs") == "metered"
    assert configured.role_of("anthropic_usage") == "observational"
