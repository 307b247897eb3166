"""The warehouse built from the sample exports: exact dollars, attribution, comments, publishing."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.config import Settings, load_settings
from pipelines.docs import data_dictionary
from pipelines.services.ingest import sweep_landing
from pipelines.services.lake import build_window
from pipelines.services.reference import load_reference
from pipelines.services.warehouse import build_and_publish
from tests.conftest import built_once, duckdb_cli, land_sample, undocumented_objects
from transforms.salaries import CLASSIC_COLUMNS
from warehouse.build import IdentityConflictError
from warehouse.families import model_families

AT = datetime(2026, 3, 6, 6, 0, tzinfo=UTC)
ROSTER = """engineer_id,email,name,team,cost_centre,level,title,location,valid_from,valid_to
E1,Ann.Lee@acme.example,Ann Lee,platform,CC-101,L5,Senior Software Engineer,"San Francisco, CA",2024-01-01,
E2,bo.chen@acme.example,Bo Chen,data,CC-102,L4,Software Engineer,"London, England, United Kingdom",2024-01-01,
E3,alice@acme.example,Alice Ng,data,CC-102,L4,Software Engineer,"London, England, United Kingdom",2024-01-01,
E4,idle@acme.example,Idle Person,data,CC-102,L4,Software Engineer,"London, England, United Kingdom",2026-03-03,
"""
ALIASES = """engineer_id,kind,value,valid_from,valid_to
E1,anthropic_account_id,user_01WCz1FkmYMm4gnmykNKUu3Q,2024-01-01,
E2,openai_user_id,user-abc123XyZ,2024-01-01,
E3,email,ALICE@acme.example,2024-01-01,
"""
SALARIES = (
    ",".join(CLASSIC_COLUMNS)
    + """
1/10/2026 9:15:00,Acme Robotics,L5,Software Engineer,340000,"San Francisco, CA",7,2,NA,200000,120000,20000
2/10/2026 10:00:01,Acme Robotics,L5,Software Engineer,390000,"San Francisco, CA",8,1,NA,220000,140000,30000
2/11/2026 11:30:00,Acme Robotics,L5,Software Engineer,350000,"San Francisco, CA",9,3,NA,240000,100000,10000
2/11/2026 12:00:00,Other Corp,L5,Software Engineer,999000,"San Francisco, CA",9,1,NA,999000,0,0
1/5/2026 8:00:00,Acme Robotics,L4,Software Engineer,140000,"London, EN, United Kingdom",4,1,NA,110000,20000,10000
"""
)


def _write(settings: Settings, kind: str, text: str) -> None:
    path = settings.landing / kind / f"{kind}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    load_reference(settings, kind, [path])


# The hand-made salaries hold 1 to 3 submissions a band: a config that lets each stand as a band. (The roster's
# Senior Software Engineer meets the Software Engineer bands through the default bands.title_map.)
SMALL_BANDS = "[bands]\nmin_n = 1\n"


def _build_world(root: Path) -> None:
    """Land and normalize the sample exports for 2026-03-01..05 under root/data, with a small roster and
    root/tokencomp.toml letting bands of n >= 1 stand."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.delenv("TOKENCOMP_CONFIG", raising=False)
        Path("tokencomp.toml").write_text(SMALL_BANDS)
        settings = load_settings(data_dir=root / "data")
        land_sample(settings, "anthropic_usage", "anthropic_usage_report_messages_grouped_page1.json")
        land_sample(settings, "anthropic_usage", "anthropic_usage_report_messages_grouped_page2.json")
        land_sample(settings, "anthropic_cost", "anthropic_cost_report_grouped_example.json")
        land_sample(settings, "openai_usage", "openai_usage_completions_grouped_example.json")
        land_sample(settings, "openai_costs", "openai_costs_grouped_example.json")
        land_sample(
            settings,
            "claude_code_logs",
            "claude_code_session_example.jsonl",
            as_name="alice@acme.example/projects/p/s.jsonl",
        )
        for source in ("anthropic_usage", "anthropic_cost", "openai_usage", "openai_costs", "claude_code_logs"):
            sweep_landing(settings, source, landed_at=AT)
        build_window(settings, date(2026, 3, 1), date(2026, 3, 5))
        _write(settings, "roster", ROSTER)
        _write(settings, "aliases", ALIASES)
        _write(settings, "salaries", SALARIES)


@pytest.fixture
def world(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The sample exports landed and normalized for 2026-03-01..05, with a small roster (bands of n >= 1):
    this test's own copy of the data dir, built once for the session."""
    built = built_once(tmp_path_factory, "warehouse_world", _build_world)
    shutil.copyfile(built / "tokencomp.toml", "tokencomp.toml")
    shutil.copytree(built / "data", settings.data_dir, symlinks=True)
    return load_settings(data_dir=settings.data_dir)


def test_billed_dollars_are_exactly_the_providers(world: Settings) -> None:
    build_and_publish(world)
    with duckdb.connect(str(world.warehouse_path), read_only=True) as con:
        billed = dict(con.sql("select provider, sum(billed_usd) from core.fct_billed_daily group by 1").fetchall())
    # Anthropic: cents strings 14463.30 + 22466.25 + 117.063390 + 45.125250 + 3.00 + 0.6123 = 37095.35094 cents
    assert billed["anthropic"] == Decimal("370.953509400000")
    # OpenAI: dollar numbers read through their decimal text, 0.8023212500000001 rounds at 12 places
    assert billed["openai"] == Decimal("0.802321250000") + Decimal("0.150168") + Decimal("0.90211") + Decimal(
        "3.76251375"
    ) + Decimal("0.41")


def test_direct_aliases_attribute_metered_spend_and_observational_rows(world: Settings) -> None:
    build_and_publish(world)
    with duckdb.connect(str(world.warehouse_path), read_only=True) as con:
        who = con.sql(
            "select source, principal_id, engineer_id from core.fct_usage_daily "
            "where spend_role <> 'billed' group by all order by all"
        ).fetchall()
        spend_engineers = set(con.sql("select distinct engineer_id, attribution from core.fct_spend").fetchall())
    assert ("anthropic_usage", "user_01WCz1FkmYMm4gnmykNKUu3Q", "E1") in who
    assert ("openai_usage", "user-abc123XyZ", "E2") in who
    assert ("openai_usage", "user-def456UvW", None) in who
    assert ("claude_code_logs", "alice@acme.example", "E3") in who  # email alias matched case-insensitively
    # Claude Code rows are never spend themselves. Alice's logs name her, but the keyless Sonnet route of
    # 2026-03-02 is declared by no route_members row: an unknown route, so nobody claims any of it
    assert spend_engineers == {("E1", "alias"), ("E2", "alias"), (None, "unattributed")}


def test_engineer_monthly_has_every_active_engineer_with_band_and_shares(world: Settings) -> None:
    build_and_publish(world)
    with duckdb.connect(str(world.warehouse_path), read_only=True) as con:
        rows = con.sql(
            "select engineer_id, days_active, spend_usd, band_base_p50, band_total_p50, annualized_run_rate_usd,"
            " spend_share_of_base from mart.engineer_monthly order by engineer_id"
        ).fetchall()
        e1_spend = con.sql("select sum(spend_usd) from core.fct_spend where engineer_id = 'E1'").fetchall()[0][0]
    by_id = {r[0]: r for r in rows}
    assert sorted(by_id) == ["E1", "E2", "E3", "E4"]  # E3 (logs only) and E4 (joined mid-window) spend nothing
    # the data covers 2026-03-02..2026-03-04: 3 days; E4 joined on 2026-03-03
    assert by_id["E1"][1] == 3 and by_id["E4"][1] == 2
    assert by_id["E4"][2] == Decimal(0)
    # Alice (E3) has no route of her own and is a member of no shared route: her logs claim nothing
    assert by_id["E3"][2] == Decimal(0)
    assert by_id["E1"][2] == e1_spend
    assert (by_id["E1"][3], by_id["E1"][4]) == (220000, 350000)  # median of Acme only, Other Corp filtered out
    assert by_id["E1"][5] == (e1_spend * 365 / 3).quantize(Decimal("1E-12"), rounding="ROUND_DOWN")
    # the share is exact at 12 decimals (truncated), never a DOUBLE rounded in storage
    assert by_id["E1"][6] == (by_id["E1"][5] / 220000).quantize(Decimal("1E-12"), rounding="ROUND_DOWN")


def test_every_table_and_column_has_a_comment_and_the_dictionary_is_current(world: Settings) -> None:
    build_and_publish(world)
    assert undocumented_objects(world.warehouse_path) == []
    committed = Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md"
    assert committed.read_text() == data_dictionary(), "run `make docs`"


def test_published_file_opens_read_only_in_the_duckdb_1_5_cli(world: Settings) -> None:
    build_and_publish(world)
    assert oct(world.warehouse_path.stat().st_mode & 0o777) == "0o600"
    lines = duckdb_cli(world.warehouse_path, "select version(), count(*) from mart.engineer_monthly")
    assert lines[1].startswith("v1.5.") and lines[1].endswith(",4")


def test_publishing_replaces_the_file_atomically_under_an_open_reader(world: Settings) -> None:
    build_and_publish(world)
    reader = duckdb.connect(str(world.warehouse_path), read_only=True)
    before = reader.sql("select count(*) from core.dim_engineer").fetchall()[0]
    _write(world, "roster", ROSTER + "E5,new@acme.example,New,data,CC-102,L4,Software Engineer,x,2024-01-01,\n")
    build_and_publish(world)
    assert reader.sql("select count(*) from core.dim_engineer").fetchall()[0] == before  # old snapshot still whole
    reader.close()
    with duckdb.connect(str(world.warehouse_path), read_only=True) as con:
        assert con.sql("select count(*) from core.dim_engineer").fetchall()[0] == (5,)


def test_an_alias_that_names_two_engineers_stops_the_build_and_publishes_nothing(world: Settings) -> None:
    build_and_publish(world)
    published = world.warehouse_path.read_bytes()
    _write(world, "aliases", ALIASES + "E4,openai_user_id,user-abc123XyZ,2024-01-01,\n")
    with pytest.raises(
        IdentityConflictError, match=r"openai_user_id 'user-abc123XyZ' names both E2 \(hand\) and E4 \(hand\)"
    ):
        build_and_publish(world)
    assert world.warehouse_path.read_bytes() == published


def test_dim_model_families_come_from_the_packaged_rules(world: Settings) -> None:
    build_and_publish(world)
    with duckdb.connect(str(world.warehouse_path), read_only=True) as con:
        families = dict(con.sql("select model, model_family from core.dim_model").fetchall())
    assert families and families == model_families(families)
    assert {f for m, f in families.items() if m.startswith("gpt-")} <= {"gpt-4.1", "gpt-4o", "gpt-5"}
