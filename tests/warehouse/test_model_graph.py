"""The build order comes from what each model's SQL reads, not from a hand-kept list."""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

import pytest

from warehouse.models import ModelGraphError, model_graph, upstream_tables

PACKAGED = Path(str(files("warehouse").joinpath("sql")))


def _tree(tmp_path: Path) -> Path:
    """A copy of the packaged SQL models to add files to."""
    root = tmp_path / "sql"
    shutil.copytree(PACKAGED, root)
    return root


def test_every_model_is_built_after_everything_its_sql_reads() -> None:
    graph = model_graph()
    position = {m.name: i for i, m in enumerate(graph)}
    models = {m.name: m for m in graph}
    on_disk = sorted(
        f"{p.parent.name}/{p.stem}" for d in ("core", "mart") for p in (PACKAGED / d).glob("*.sql") if p.stem[0] != "_"
    )
    assert sorted(position) == on_disk  # every model file, and nothing else (core/_no_closed_months is a helper)
    for model in graph:
        assert all(position[dep] < position[model.name] for dep in model.depends_on), model.name
    # what the files say, read by DuckDB's tokenizer: comments ("core/spend_computed") and COMMENT strings don't count
    assert models["core/fct_spend"].depends_on == ("core/spend_computed",)
    assert models["core/fct_spend"].sources == ("src_closed_spend",)
    assert models["core/spend_computed"].creates == "spend_computed"
    assert models["core/spend_computed"].depends_on == ("core/dim_route_member", "core/fct_usage_daily")
    assert models["core/fct_usage_daily"].depends_on == ("core/dim_alias", "core/dim_scope")
    assert models["core/fct_usage_daily"].sources == ("src_usage",)
    assert models["mart/team_monthly"].depends_on == ("mart/engineer_monthly",)
    assert models["core/dim_engineer"].depends_on == ()
    # lineage looks through the temporary spend_computed to the published tables behind it
    assert upstream_tables(models["core/fct_spend"], graph) == (
        ("core.dim_route_member", "core.fct_usage_daily"),
        ("src_closed_spend",),
    )
    assert not models["core/spend_computed"].published and models["core/fct_spend"].published


def test_a_new_model_file_joins_the_order_after_what_it_reads_with_no_list_edit(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "mart" / "aaa_team_spend.sql").write_text(
        "create table mart.aaa_team_spend as\n"
        "-- reads mart.not_a_table only in this comment\n"
        "with teams as (select * from mart.team_monthly), spend as (select * from core.fct_spend)\n"
        "select teams.team, count(*) as n from teams cross join spend group by all;\n"
        "comment on table mart.aaa_team_spend is 'Reads core.fct_invoice only in this string.';\n"
    )
    graph = model_graph(root)
    names = [m.name for m in graph]
    new = next(m for m in graph if m.name == "mart/aaa_team_spend")
    assert new.depends_on == ("core/fct_spend", "mart/team_monthly")
    assert names.index("mart/team_monthly") < names.index("mart/aaa_team_spend")
    assert len(graph) == len(model_graph()) + 1


def test_a_model_reading_a_table_no_model_creates_is_an_error_naming_the_file(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "mart" / "broken.sql").write_text("create table mart.broken as select * from core.fct_spends\n")
    with pytest.raises(
        ModelGraphError, match=r"^warehouse/sql/mart/broken\.sql reads core\.fct_spends, which no model"
    ):
        model_graph(root)


def test_models_reading_each_other_in_a_cycle_is_an_error_naming_a_file(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "mart" / "ping.sql").write_text("create table mart.ping as select * from mart.pong\n")
    (root / "mart" / "pong.sql").write_text("create table mart.pong as select * from mart.ping\n")
    with pytest.raises(ModelGraphError, match=r"^warehouse/sql/mart/p[io]ng\.sql: models read each other in a cycle: "):
        model_graph(root)


def test_a_model_file_must_create_exactly_one_table(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "core" / "empty.sql").write_text("-- create table core.empty as select 1\nselect 1\n")
    with pytest.raises(ModelGraphError, match=r"^warehouse/sql/core/empty\.sql: a model creates exactly one table"):
        model_graph(root)
