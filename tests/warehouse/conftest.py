"""Fixtures shared by the warehouse tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from pipelines.config import load_settings
from pipelines.services.ingest import sweep_landing
from pipelines.services.lake import build_window, lake_files
from pipelines.services.warehouse import build_inputs
from tests.conftest import land_sample
from tests.warehouse.test_warehouse_build import ALIASES, AT, ROSTER, SALARIES, SMALL_BANDS, _write
from transforms.schema import conform
from warehouse.build import build

DAY = date(2026, 3, 3)


def _extra_row(**values: object) -> dict[str, object]:
    base: dict[str, object] = {
        "billing_date": DAY,
        "usage_date": DAY,
        "period_start": datetime(2026, 3, 3, tzinfo=UTC),
        "period_end": datetime(2026, 3, 4, tzinfo=UTC),
        "source": "anthropic_usage",
        "provider": "anthropic",
        "spend_role": "metered",
        "scope_kind": "workspace",
        "scope_id": "wrkspc_seats",
        "principal_kind": "email",
        "principal_id": "alice@acme.example",
        "charge_category": "usage",
        "currency": "USD",
        "cost_basis": "list",
        "raw_sha256": "0" * 64,
        "ingested_at": datetime(2026, 3, 6, 6, tzinfo=UTC),
    }
    return {**base, **values}


@pytest.fixture(scope="package")
def focus_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The sample exports of 2026-03-01..05 (as tests/warehouse/test_warehouse_build.py lands them), plus a lake
    file of three non-token rows of Alice (E3, team data): 3 seats, 120 provider credits, a credit note of -$1.25.
    Bands of n >= 1 (SMALL_BANDS), so the hand-made submissions each stand as a band.
    Built once for tests/warehouse."""
    mp = pytest.MonkeyPatch()
    tmp_path = tmp_path_factory.mktemp("focus")
    mp.chdir(tmp_path)
    mp.delenv("TOKENCOMP_CONFIG", raising=False)
    (tmp_path / "tokencomp.toml").write_text(SMALL_BANDS)
    world = load_settings(data_dir=tmp_path / "data")
    land_sample(world, "anthropic_usage", "anthropic_usage_report_messages_grouped_page1.json")
    land_sample(world, "anthropic_usage", "anthropic_usage_report_messages_grouped_page2.json")
    land_sample(world, "anthropic_cost", "anthropic_cost_report_grouped_example.json")
    land_sample(world, "openai_usage", "openai_usage_completions_grouped_example.json")
    land_sample(world, "openai_costs", "openai_costs_grouped_example.json")
    for source in ("anthropic_usage", "anthropic_cost", "openai_usage", "openai_costs"):
        sweep_landing(world, source, landed_at=AT)
    build_window(world, date(2026, 3, 1), date(2026, 3, 5))
    for kind, text in (("roster", ROSTER), ("aliases", ALIASES), ("salaries", SALARIES)):
        _write(world, kind, text)
    rows = [
        _extra_row(
            record_id="seat-1",
            billing_model="seat",
            quantity=Decimal(3),
            unit="seat",
            line_item="team",
            list_cost_usd=Decimal("2.5"),
        ),
        _extra_row(
            record_id="credits-1",
            billing_model="credits",
            quantity=Decimal(120),
            unit="credits",
            list_cost_usd=Decimal("4.8"),
        ),
        _extra_row(
            record_id="credit-note-1", billing_model="other", charge_category="credit", list_cost_usd=Decimal("-1.25")
        ),
    ]
    extra = tmp_path / "extra" / "billing_date=2026-03-03" / "part-0.parquet"
    extra.parent.mkdir(parents=True)
    conform(pl.DataFrame(rows, infer_schema_length=None)).drop("billing_date").collect().write_parquet(extra)
    path = tmp_path / "warehouse.duckdb"
    build(build_inputs(world, [*lake_files(world), extra]), path)
    yield path
    mp.undo()
