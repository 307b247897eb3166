"""Model families: the packaged rules (warehouse/model_families.csv) that group model ids for chargeback.

The rules are data: each row is a regular expression (RE2, searched anywhere in the canonical model id) and
the family it names, where `\\1` takes the first group of the match. The first matching row wins; an id no
row matches is `other`. A new catalog model joins its family without code; a new line of models is one row.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.resources import files

import duckdb
import polars as pl

FALLBACK_FAMILY = "other"


def model_family_rules() -> pl.DataFrame:
    """The rules in file order: `rule` (1, 2, …), `pattern`, `family`."""
    with files("warehouse").joinpath("model_families.csv").open("rb") as f:
        rules = pl.read_csv(f, schema={"pattern": pl.String, "family": pl.String})
    return rules.with_row_index("rule", offset=1)


def register_model_families(con: duckdb.DuckDBPyConnection) -> None:
    """Make `model_family(model_id)` available on `con` (a temporary macro over the rules, as `src_model_families`)."""
    con.register("src_model_families", model_family_rules())
    con.execute(files("warehouse").joinpath("sql/_model_family.sql").read_text())


def model_families(models: Iterable[str]) -> dict[str, str]:
    """The family of each model id, by the same SQL the warehouse build runs."""
    with duckdb.connect() as con:
        register_model_families(con)
        frame = pl.DataFrame({"model": sorted(set(models))}, schema={"model": pl.String})
        con.register("models", frame)
        return dict(con.execute("select model, model_family(model) from models").fetchall())
