"""The configured price overrides file reaches the lake: discounted list prices, versioned, and bad files exit 1."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from pipelines.cli import main
from pipelines.config import Settings, load_settings
from pipelines.services.ingest import sweep_landing
from pipelines.services.lake import build_window, read_lake
from tests.conftest import SAMPLES, land_sample

HEADER = (
    "provider,model,model_pattern,effective_from,effective_to,service_tier,uncached_input_mtok,cache_read_mtok,"
    "cache_write_5m_mtok,cache_write_1h_mtok,output_mtok,tier_threshold,tier_uncached_input_mtok,"
    "tier_cache_read_mtok,tier_cache_write_5m_mtok,tier_cache_write_1h_mtok,tier_output_mtok,discount_pct,note\n"
)


def _gpt5_list(settings: Settings) -> tuple[Decimal, set[str]]:
    land_sample(settings, "openai_usage", "openai_usage_completions_grouped_example.json")
    sweep_landing(settings, "openai_usage", landed_at=datetime(2026, 3, 5, tzinfo=UTC))
    build_window(settings, date(2026, 3, 2), date(2026, 3, 2))
    rows = read_lake(settings).filter(pl.col("model") == "gpt-5").collect()
    return rows["list_cost_usd"].sum(), set(rows["price_version"])


def test_a_negotiated_discount_in_the_overrides_file_prices_the_lake(settings: Settings, tmp_path: Path) -> None:
    catalog, versions = _gpt5_list(settings)
    assert versions == {"genai-prices 0.2.3"}
    overrides = tmp_path / "prices.csv"
    overrides.write_text(HEADER + "openai,gpt-5,,2026-01-01,,,,,,,,,,,,,,20,negotiated 20% off\n")
    config = tmp_path / "tokencomp.toml"
    config.write_text(f'[paths]\ndata_dir = "{settings.data_dir}"\n[pricing]\noverrides_file = "{overrides}"\n')
    discounted, versions = _gpt5_list(load_settings(config))
    assert discounted == catalog * Decimal("0.8")
    [version] = versions
    assert version.startswith("genai-prices 0.2.3+overrides:")


def test_a_broken_overrides_file_is_bad_input(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overrides = tmp_path / "prices.csv"
    overrides.write_text(HEADER + "openai,gpt-5,,2026-01-01,,,,,,,,,,,,,,twenty,\n")
    config = tmp_path / "tokencomp.toml"
    config.write_text(f'[pricing]\noverrides_file = "{overrides}"\n')
    assert main(["--config", str(config), "--data-dir", str(settings.data_dir), "run", "--date", "2026-03-02"]) == 1
    err = capsys.readouterr().err
    assert f"{overrides}:2: field 'discount_pct'" in err and err.count("\n") == 1


def test_a_backfill_prices_every_chunk_with_the_overrides_it_started_with(settings: Settings, tmp_path: Path) -> None:
    # the same usage on 2 March and, forty days later, on 11 April: the window is built in two 31-day chunks
    page = json.loads((SAMPLES / "openai_usage_completions_grouped_example.json").read_text())
    later = 40 * 86400
    for bucket in page["data"]:
        bucket["start_time"] += later
        bucket["end_time"] += later
    land_sample(settings, "openai_usage", "openai_usage_completions_grouped_example.json")
    (settings.landing / "openai_usage" / "april.json").write_text(json.dumps(page))
    sweep_landing(settings, "openai_usage", landed_at=datetime(2026, 4, 13, tzinfo=UTC))
    overrides = tmp_path / "prices.csv"
    overrides.write_text(HEADER + "openai,gpt-5,,2026-01-01,,,,,,,,,,,,,,20,negotiated 20% off\n")
    config = tmp_path / "tokencomp.toml"
    config.write_text(f'[paths]\ndata_dir = "{settings.data_dir}"\n[pricing]\noverrides_file = "{overrides}"\n')
    configured = load_settings(config)

    def renegotiate(done: int, total: int) -> None:  # the file changes while the run is between chunks
        if done < total:
            overrides.write_text(HEADER + "openai,gpt-5,,2026-01-01,,,,,,,,,,,,,,50,renegotiated\n")

    build_window(configured, date(2026, 3, 2), date(2026, 4, 11), renegotiate)
    rows = read_lake(configured).filter(pl.col("model") == "gpt-5").collect()
    by_day = dict(rows.group_by("billing_date").agg(pl.col("list_cost_usd").sum()).iter_rows())
    assert set(by_day) == {date(2026, 3, 2), date(2026, 4, 11)}
    assert by_day[date(2026, 4, 11)] == by_day[date(2026, 3, 2)]  # both at 20% off: one price book per run
    assert rows["price_version"].n_unique() == 1
