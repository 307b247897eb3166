"""Each data check fails on real input: reference/ with a negative figure (in a real Dagster run), a source whose
data is stale, and a day whose row count is far off its trailing median (on a real lake); plus `[checks]` config."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from pipelines.config import ConfigError, Settings, load_settings
from pipelines.defs.checks import negative_reference
from pipelines.defs.ingest import reference_files
from pipelines.defs.resources import TokencompResource
from pipelines.services.checks import freshness, live_pages, row_count_anomaly
from pipelines.services.ingest import ingest
from pipelines.services.lake import build_window


def _page(day: date, keys: int) -> str:
    bucket = {
        "starting_at": f"{day}T00:00:00Z",
        "ending_at": f"{date.fromordinal(day.toordinal() + 1)}T00:00:00Z",
        "results": [
            {
                "api_key_id": f"k{i}",
                "workspace_id": "w",
                "model": "claude-sonnet-4-5",
                "uncached_input_tokens": 10,
                "cache_read_input_tokens": 0,
                "output_tokens": 1,
            }
            for i in range(keys)
        ],
    }
    return json.dumps({"data": [bucket], "has_more": False, "next_page": None})


def _land(settings: Settings, tmp_path: Path, day: date, keys: int) -> None:
    path = tmp_path / f"usage-{day}.json"
    path.write_text(_page(day, keys))
    assert [o.status for o in ingest(settings, "anthropic_usage", [path])] == ["landed"]


def test_a_negative_seat_price_stored_in_reference_fails_the_blocking_check_in_a_run(
    settings: Settings, instance: dg.DagsterInstance
) -> None:
    # `tokencomp reference load` refuses it at its line; a file stored another way (an older release, a copy)
    settings.reference.mkdir(parents=True)
    pl.DataFrame(
        {"provider": ["cursor", "cursor"], "plan": ["pro", "team"], "price_usd": ["20", "-40"], "period": ["month"] * 2}
    ).with_columns(valid_from=pl.lit(date(2025, 1, 1)), valid_to=pl.lit(None, pl.Date)).write_parquet(
        settings.reference / "seat_prices.parquet"
    )
    result = dg.materialize(
        [reference_files, negative_reference],
        resources={"tokencomp": TokencompResource(data_dir=str(settings.data_dir))},
        instance=instance,
        raise_on_error=False,
    )
    [evaluation] = result.get_asset_check_evaluations()
    assert (evaluation.check_name, evaluation.passed, evaluation.severity, evaluation.blocking) == (
        "negative_tokens",
        False,
        dg.AssetCheckSeverity.ERROR,
        True,
    )
    assert evaluation.description == (
        "1 negative number(s) in the stored reference data; first: seat_prices row 2: price_usd = -40; reload that "
        "kind with `tokencomp reference load` and rerun"
    )
    assert not result.success  # a failed blocking check fails its step


def test_freshness_warns_for_stale_and_never_delivered_enabled_sources(settings: Settings, tmp_path: Path) -> None:
    _land(settings, tmp_path, date(2025, 8, 1), 1)
    assert freshness(settings, "anthropic_usage", date(2025, 8, 3)).passed  # 2 days behind: the default limit
    stale = freshness(settings, "anthropic_usage", date(2025, 8, 4))
    assert (stale.passed, stale.description) == (
        False,
        "anthropic_usage is stale: its data ends 2025-08-01, 3 days before 2025-08-04 (limit 2)",
    )
    assert freshness(settings, "openai_usage", date(2025, 8, 4)).description == "openai_usage has delivered no data yet"
    Path("tokencomp.toml").write_text(
        '[pipeline]\nenabled_sources = ["anthropic_usage"]\n[checks.anthropic_usage]\nfreshness_days = 5\n'
    )
    own = load_settings(data_dir=settings.data_dir)
    assert freshness(own, "anthropic_usage", date(2025, 8, 4)).passed  # its own limit
    assert freshness(own, "openai_usage", date(2025, 8, 4)).passed  # not enabled: never stale


def test_row_count_anomaly_compares_each_day_with_the_median_of_the_same_weekday_before(
    settings: Settings, tmp_path: Path
) -> None:
    # Fridays 4, 5 and 4 rows, a quiet Saturday of 1 each week (never an anomaly), then a Friday of 1 row
    fridays = [date(2025, 8, 1), date(2025, 8, 8), date(2025, 8, 15), date(2025, 8, 22)]
    for day, keys in zip(fridays, (4, 5, 4, 1), strict=True):
        _land(settings, tmp_path, day, keys)
        _land(settings, tmp_path, date.fromordinal(day.toordinal() + 1), 1)
    build_window(settings, fridays[0], date(2025, 8, 23))
    # a median under row_count_min_rows (100) is too small to compare: a handful of rows swings by half
    assert row_count_anomaly(settings, (date(2025, 8, 22), date(2025, 8, 23))).passed
    Path("tokencomp.toml").write_text("[checks]\nrow_count_min_rows = 1\n")
    small = load_settings(data_dir=settings.data_dir)
    # by hand: the Fridays before the 22nd hold 4, 5, 4 rows, median 4; 1 row is below 4 x (1 - 0.5)
    found = row_count_anomaly(small, (date(2025, 8, 22), date(2025, 8, 23)))
    assert (found.passed, found.metadata["anomalies"]) == (False, 1)
    assert found.description == (
        "1 source day(s) off their trailing median; first: anthropic_usage 2025-08-22 has 1 rows against a median "
        "of 4 on the same weekday of 3 earlier weeks (tolerance 50%)"
    )
    assert row_count_anomaly(small, (date(2025, 8, 15), date(2025, 8, 16))).passed  # 4 against median 4.5
    Path("tokencomp.toml").write_text("[checks]\nrow_count_min_rows = 1\nrow_count_tolerance = 0.8\n")
    assert row_count_anomaly(load_settings(data_dir=settings.data_dir), (date(2025, 8, 22), date(2025, 8, 22))).passed


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[checks]\nfreshness_days = 0\n", "checks.freshness_days must be a positive whole number, not 0"),
        ('[checks]\nunattributed_share = "1.5"\n', "checks.unattributed_share must be a share from 0 to 1"),
        ('[checks]\nblocking = ["tie_out"]\n', "checks.blocking: 'tie_out' is not a WARN check"),
        ("[checks.nope]\nfreshness_days = 3\n", "[checks.nope]: unknown source"),
    ],
)
def test_checks_config_is_checked(settings: Settings, toml: str, message: str) -> None:
    Path("tokencomp.toml").write_text(toml)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_settings()


def test_a_warn_check_listed_in_checks_blocking_blocks(settings: Settings) -> None:
    from pipelines.definitions import build_definitions

    Path("tokencomp.toml").write_text('[checks]\nblocking = ["unpriced_models"]\n')
    graph = build_definitions(TokencompResource(config_path="tokencomp.toml")).resolve_asset_graph()
    blocking = {k.name: graph.get(k).blocking for k in graph.asset_check_keys if k.asset_key.path == ["lake", "usage"]}
    assert blocking == {"fx_rates": True, "unpriced_models": True, "row_count_anomaly": False}


def _manifest(rows: list[tuple[int, str | None, int, int]]) -> pl.DataFrame:
    """Manifest rows (seq, request JSON or None for a dropped file, first and last August day)."""
    return pl.DataFrame(
        {
            "seq": [r[0] for r in rows],
            "request": [r[1] for r in rows],
            "min_date": [date(2025, 8, r[2]) for r in rows],
            "max_date": [date(2025, 8, r[3]) for r in rows],
        }
    )


def test_a_page_counts_until_later_pages_of_the_same_request_or_dropped_by_hand_cover_its_days() -> None:
    by_model = json.dumps({"path": "/v1/usage", "group_by": ["model"], "starting_at": "2025-08-01"})
    by_model_later = json.dumps({"path": "/v1/usage", "group_by": ["model"], "starting_at": "2025-08-02"})
    by_key = json.dumps({"path": "/v1/usage", "group_by": ["api_key_id"]})
    window = (date(2025, 8, 1), date(2025, 8, 3))

    def live(rows: list[tuple[int, str | None, int, int]]) -> list[int]:
        return sorted(live_pages(_manifest(rows), window)["seq"])

    assert live([(1, by_model, 1, 3), (2, by_model_later, 2, 3)]) == [1, 2]  # day 1 of page 1 is not re-pulled
    assert live([(1, by_model, 1, 3), (2, by_model_later, 2, 3), (3, by_model_later, 1, 1)]) == [2, 3]
    assert live([(1, by_model, 1, 3), (2, by_key, 1, 3)]) == [1, 2]  # another grouping answers another question
    assert live([(1, by_model, 1, 3), (2, None, 1, 3)]) == [2]  # a corrected page dropped by hand
    assert live([(1, by_model, 1, 3), (2, by_model, 5, 6)]) == [1]  # outside the window: not scanned
