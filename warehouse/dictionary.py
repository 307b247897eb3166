"""docs/data-dictionary.md, generated from the COMMENTs the SQL files put on every table and column.

`make docs` (`python -m pipelines.docs`) rewrites it after a model changes; a test fails when the
committed dictionary is out of date.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

HEADER = """# Data dictionary

Generated from the `COMMENT`s in `warehouse/sql/` by `make docs`; do not edit by hand.
Money columns are `DECIMAL(38,12)` USD unless stated; salary bands are whole USD.
"""


def describe(warehouse: Path) -> str:
    """Markdown for every table and column of a built warehouse, in schema/table order."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.sql(
            "select schema_name, table_name, comment from duckdb_tables() order by schema_name, table_name"
        ).fetchall()
        columns = con.sql(
            "select schema_name, table_name, column_name, data_type, comment from duckdb_columns() "
            "order by schema_name, table_name, column_index"
        ).fetchall()
    parts = [HEADER]
    for schema, table, comment in tables:
        parts.append(f"\n## `{schema}.{table}`\n\n{comment}\n\n| column | type | meaning |\n| --- | --- | --- |")
        for s, t, column, dtype, col_comment in columns:
            if (s, t) == (schema, table):
                parts.append(f"| `{column}` | `{dtype}` | {col_comment} |")
    return "\n".join(parts) + "\n"
