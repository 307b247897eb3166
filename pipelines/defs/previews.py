"""How an asset shows a few of its rows in the Dagster UI: a small Markdown table in its materialization."""

import polars as pl


def preview(frame: pl.DataFrame) -> str:
    """The first rows of a table as a Markdown table (bars inside values escaped)."""
    if frame.is_empty():
        return "_no rows_"
    escaped = frame.with_columns(pl.col(pl.String).str.replace_all("|", "\\|", literal=True))
    with pl.Config(
        tbl_formatting="MARKDOWN",
        tbl_hide_column_data_types=True,
        tbl_hide_dataframe_shape=True,
        tbl_rows=-1,
        tbl_cols=-1,
        fmt_str_lengths=80,
        tbl_width_chars=30000,
    ):
        return str(escaped)
