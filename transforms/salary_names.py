"""Names on salary submissions: companies, levels and locations as free text, made comparable.

Each rule is a Polars expression over a whole column (no per-row Python). The lookup tables are the
packaged CSV files in `transforms/salary_data/`; `docs/salaries.md` states every rule.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import polars as pl

# Spaces a copy-paste brings in (non-breaking, thin, ideographic, zero-width) become plain spaces.
_ODD_SPACES = r"[\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff\t]"
# A legal suffix at the end of a company name, after a space or comma (`Google LLC`, `Acme, Inc.`).
_LEGAL_SUFFIX = (
    r"(?i)[\s,]+(?:llc|l\.l\.c\.|inc\.?|incorporated|corp\.?|corporation|co\.|ltd\.?|limited|gmbh|plc|s\.a\.|ag)$"
)
GENERIC_LADDER = "*"
DEFAULT_TITLE = "Software Engineer"


@cache
def _table(name: str) -> pl.DataFrame:
    """One packaged lookup table (`transforms/salary_data/<name>.csv`), all text."""
    with files("transforms").joinpath(f"salary_data/{name}.csv").open("rb") as fh:
        return pl.read_csv(fh, infer_schema=False)


def level_ranks() -> pl.DataFrame:
    """Equivalent levels across ladders: (company_key, level, rank); equal ranks are the same seniority."""
    return _table("level_ranks").select(
        pl.col("company").str.to_lowercase().alias("company_key"), "level", pl.col("rank").cast(pl.Int64)
    )


def clean_text(expr: pl.Expr) -> pl.Expr:
    """Free text with odd spaces made plain, runs of spaces collapsed and the ends trimmed; empty is null."""
    out = expr.str.replace_all(_ODD_SPACES, " ").str.replace_all(r"\s+", " ").str.strip_chars()
    return pl.when(out == "").then(None).otherwise(out)


def _company_base(expr: pl.Expr) -> pl.Expr:
    """The cleaned name without a legal suffix (applied twice: `Foo Holdings, Inc. Ltd`)."""
    cleaned = clean_text(expr)
    return cleaned.str.replace(_LEGAL_SUFFIX, "").str.replace(_LEGAL_SUFFIX, "").str.strip_chars(" ,")


def with_companies(frame: pl.LazyFrame, column: str = "company_raw") -> pl.LazyFrame:
    """Add `company_key` (the matching key) and `company` (the name shown) from the submitted name.

    Case, spacing and legal suffixes never split a company; aliases and former names resolve through
    `company_aliases.csv` (AWS -> Amazon, Facebook -> Meta). A company the table does not know is shown
    in its most frequent spelling (ties: the alphabetically first).
    """
    aliases = (
        _table("company_aliases").lazy().select(pl.col("alias").alias("_alias"), pl.col("company").alias("_known"))
    )
    based = frame.with_columns(_company_base(pl.col(column)).alias("_base"))
    based = based.with_columns(pl.col("_base").str.to_lowercase().alias("_alias"))
    joined = based.join(aliases, on="_alias", how="left", maintain_order="left")
    joined = joined.with_columns(pl.coalesce("_known", "_base").str.to_lowercase().alias("company_key"))
    spelled = (
        joined.filter(pl.col("company_key").is_not_null())
        .group_by("company_key", "_base", "_known")
        .agg(pl.len().alias("_uses"))
        .sort(["company_key", "_uses", "_base"], descending=[False, True, False])
        .group_by("company_key", maintain_order=True)
        .agg(pl.coalesce(pl.col("_known").first(), pl.col("_base").first()).alias("company"))
    )
    return joined.join(spelled, on="company_key", how="left", maintain_order="left").drop("_base", "_alias", "_known")


def company_key(name: str) -> str:
    """The matching key of one company name from config, by the same rule as the submissions' names."""
    frame = with_companies(pl.LazyFrame({"company_raw": [name]}, schema={"company_raw": pl.String})).collect()
    key = frame["company_key"][0]
    return key if key is not None else ""


def _rules_expr(text: pl.Expr) -> pl.Expr:
    """The canonical level of upper-cased `text` by the first matching rule of the row's company (else the
    generic rules, for a company with no ladder of its own); null when no rule matches."""
    rules = _table("level_rules")
    laddered = sorted({c.lower() for c in rules["company"] if c != GENERIC_LADDER})
    branches: list[pl.Expr] = []
    for company, pattern, level in rules.iter_rows():  # one expression per rule (a few dozen), not per row
        who = (
            ~pl.col("company_key").is_in(laddered)
            if company == GENERIC_LADDER
            else pl.col("company_key") == company.lower()
        )
        branches.append(pl.when(who & text.str.contains(pattern)).then(text.str.replace(pattern, level)))
    return pl.coalesce(branches)


def with_levels(frame: pl.LazyFrame, column: str = "level_raw") -> pl.LazyFrame:
    """Add `level` and `level_mapped` (see `_levels`), worked out once per distinct (company, level) text."""
    distinct = _levels(frame.select("company_key", column).unique(), column)
    return frame.join(distinct, on=["company_key", column], how="left", nulls_equal=True, maintain_order="left")


def _levels(frame: pl.LazyFrame, column: str) -> pl.LazyFrame:
    """Add `level` (canonical where a ladder rule maps it, else the cleaned text) and `level_mapped`.

    Needs `company_key`. A level in parentheses wins (`SDE II (61)` is 61); stray quotes and backticks
    are dropped; matching ignores case. Anything no rule maps is kept as written, never dropped.
    """
    cleaned = clean_text(pl.col(column).str.replace_all(r"[`'\"]", ""))
    upper = cleaned.str.to_uppercase()
    inner = upper.str.extract(r"\(([^()]*)\)\s*$", 1).str.strip_chars()
    mapped = pl.coalesce(_rules_expr(inner), _rules_expr(upper))
    return frame.with_columns(
        pl.coalesce(mapped, cleaned).alias("level"),
        mapped.is_not_null().alias("level_mapped"),
    )


def _titled(expr: pl.Expr) -> pl.Expr:
    """City names typed all lower or all upper case get title case; mixed case is kept (McLean)."""
    return (
        pl.when((expr == expr.str.to_lowercase()) | (expr == expr.str.to_uppercase()))
        .then(expr.str.to_titlecase())
        .otherwise(expr)
    )


def with_locations(frame: pl.LazyFrame, column: str = "location_raw") -> pl.LazyFrame:
    """Add `location_scope`, `location` and `country` (see `_locations`), worked out once per distinct text."""
    distinct = _locations(frame.select(column).unique(), column)
    return frame.join(distinct, on=column, how="left", nulls_equal=True, maintain_order="left")


def _locations(frame: pl.LazyFrame, column: str) -> pl.LazyFrame:
    """Add `location` (`City, ST` in the US, `City, Region, Country` elsewhere, `City, Country` when the
    region is unknown) and `country`. A location that names only a country gets `location` null and
    `location_scope` 'country'; an empty one is null with scope 'all'; otherwise the scope is 'city'.
    """
    states = _table("us_states")
    codes = states["code"].to_list()
    names = dict(zip(states["name"].str.to_lowercase(), states["code"], strict=True))
    countries = _table("countries")
    country_of = dict(zip(countries["alias"], countries["country"], strict=True))
    cities = _table("city_aliases")
    city_of = dict(zip(cities["alias"], cities["location"], strict=True))

    text = clean_text(pl.col(column))
    parts = text.str.split(",").list.eval(pl.element().str.strip_chars())
    n = parts.list.len()
    city = _titled(parts.list.get(0, null_on_oob=True))
    second = parts.list.get(1, null_on_oob=True)
    rest = parts.list.slice(2).list.join(", ")

    def country(expr: pl.Expr) -> pl.Expr:
        key = expr.str.replace_all(",", " ").str.replace_all(r"\s+", " ").str.strip_chars().str.to_lowercase()
        return pl.coalesce(key.replace_strict(country_of, default=None), expr)

    def state(expr: pl.Expr) -> pl.Expr:
        upper = expr.str.to_uppercase()
        return (
            pl.when(upper.is_in(codes))
            .then(upper)
            .otherwise(expr.str.to_lowercase().replace_strict(names, default=None))
        )

    region = pl.when(second.str.to_lowercase().is_in(["undefined", "na", "n/a", "-", ""])).then(None).otherwise(second)
    two_state = state(second)
    three_country = country(rest)
    only_country = country(text)
    frame = frame.with_columns(
        pl.when(text.is_null())
        .then(pl.lit("all"))
        .when((n == 1) & text.str.to_lowercase().replace_strict(country_of, default=None).is_not_null())
        .then(pl.lit("country"))
        .otherwise(pl.lit("city"))
        .alias("location_scope"),
        pl.when(n == 1)
        .then(text.str.to_lowercase().replace_strict(city_of, default=None).str.split(", ").list.get(-1))
        .when((n == 2) & two_state.is_not_null())
        .then(pl.lit("United States"))
        .when(n == 2)
        .then(country(second))
        .otherwise(three_country)
        .alias("_country"),
    )
    us = pl.col("_country") == "United States"
    built = (
        pl.when(n == 1)
        .then(pl.coalesce(text.str.to_lowercase().replace_strict(city_of, default=None), city))
        .when(us & (n == 2))
        .then(city + ", " + two_state)
        .when(us)
        .then(city + ", " + pl.coalesce(state(second), second))
        .when(region.is_null() | (n == 2))
        .then(city + ", " + pl.col("_country"))
        .otherwise(
            city
            + ", "
            + pl.when(region.str.len_chars() <= 3).then(region.str.to_uppercase()).otherwise(region)
            + ", "
            + pl.col("_country")
        )
    )
    canonical = pl.coalesce(built.str.to_lowercase().replace_strict(city_of, default=None), built)
    return frame.with_columns(
        pl.when(pl.col("location_scope") == "country")
        .then(only_country)
        .otherwise(pl.col("_country"))
        .alias("country"),
        pl.when(pl.col("location_scope") == "city").then(canonical).otherwise(None).alias("location"),
    ).drop("_country")
