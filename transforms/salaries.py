"""Salary data for the pay bands: Levels.fyi submissions (classic CSV, older JSON) and vendor band tables.

`read_salary_file` turns one file of any of the three shapes into normalized rows plus the rows it
rejected (file, line, field, problem). Every rule is a Polars expression over the whole file; the rules
are written out in `docs/salaries.md`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from transforms.salary_names import DEFAULT_TITLE, clean_text, with_companies, with_levels, with_locations

MICRO = 1_000_000  # money is parsed as exact decimal text into whole micro-dollars, then rounded to whole USD
NULL_MARKERS = ("NA", "N/A", "-", "")
CLASSIC_COLUMNS = (
    "timestamp",
    "company",
    "level",
    "title",
    "totalyearlycompensation",
    "location",
    "yearsofexperience",
    "yearsatcompany",
    "tag",
    "basesalary",
    "stockgrantvalue",
    "bonus",
)
COMPONENTS = ("base", "stock", "bonus")
PERCENTILES = ("p25", "p50", "p75", "p90")
BAND_MONEY = tuple(f"{c}_{p}" for c in (*COMPONENTS, "total") for p in PERCENTILES)
# A row reconciles when base + stock + bonus is within the larger of $1,000 and 2% of the total.
RECONCILE_USD = 1_000
RECONCILE_SHARE_DIVISOR = 50  # 2% = 1/50
THOUSANDS_BELOW = 1_000  # a file whose median total is under 1,000 is in thousands of USD

SUBMISSIONS_SCHEMA = pl.Schema(
    {
        "file": pl.String,
        "line": pl.Int64,
        "submitted_at": pl.Datetime("us"),
        "company": pl.String,
        "company_key": pl.String,
        "company_raw": pl.String,
        "title": pl.String,
        "level": pl.String,
        "level_raw": pl.String,
        "level_mapped": pl.Boolean,
        "location": pl.String,
        "location_raw": pl.String,
        "country": pl.String,
        "years_of_experience": pl.Float64,
        "years_at_company": pl.Float64,
        "base": pl.Int64,
        "stock": pl.Int64,
        "bonus": pl.Int64,
        "total": pl.Int64,
        "component_in_thousands": pl.String,
        "reconciles": pl.Boolean,
        "file_in_thousands": pl.Boolean,
    }
)
VENDOR_SCHEMA = pl.Schema(
    {
        "file": pl.String,
        "line": pl.Int64,
        "company": pl.String,
        "company_key": pl.String,
        "title": pl.String,
        "level": pl.String,
        "level_mapped": pl.Boolean,
        "location_scope": pl.String,
        "location": pl.String,
        "country": pl.String,
        "n": pl.Int64,
        **dict.fromkeys(BAND_MONEY, pl.Int64),
        "as_of": pl.Date,
        "file_in_thousands": pl.Boolean,
    }
)
REJECTED_SCHEMA = pl.Schema(
    {"file": pl.String, "line": pl.Int64, "field": pl.String, "problem": pl.String, "value": pl.String}
)


class SalaryFileError(ValueError):
    """A salary file that cannot be read at all (not CSV/JSON, or a required column missing)."""


@dataclass(frozen=True)
class SalaryFile:
    """One salary file read: its shape, how many rows it had, and what was kept or rejected."""

    path: Path
    shape: str  # 'classic' | 'json' | 'vendor'
    rows_read: int
    submissions: pl.DataFrame
    vendor: pl.DataFrame
    rejected: pl.DataFrame


def _null_markers(expr: pl.Expr) -> pl.Expr:
    """`NA`, `N/A`, `-` and empty text are null."""
    text = clean_text(expr)
    return pl.when(text.is_in(NULL_MARKERS[:-1])).then(None).otherwise(text)


def _micro(expr: pl.Expr) -> pl.Expr:
    """Exact decimal money text (`245`, `245.5`, `4,980,000`, `$1200`) as whole micro-dollars; null if not money."""
    text = expr.str.replace_all(r"[,$\s]", "")
    ok = text.str.contains(r"^\d+(\.\d{1,6})?$")
    return pl.when(ok).then((text.str.to_decimal(scale=6) * MICRO).cast(pl.Int64)).otherwise(None)


def _whole(micro: pl.Expr) -> pl.Expr:
    """Micro-dollars rounded half up to whole USD."""
    return (micro + MICRO // 2) // MICRO


def _timestamp(expr: pl.Expr) -> pl.Expr:
    """`6/7/2017 11:33:27` (Levels.fyi: M/D/YYYY H:MM:SS, 24 h, no zone), ISO date-times and plain dates."""
    return pl.coalesce(
        expr.str.to_datetime("%m/%d/%Y %H:%M:%S", strict=False, time_unit="us"),
        expr.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us"),
        expr.str.to_datetime("%Y-%m-%dT%H:%M:%S", strict=False, time_unit="us"),
        expr.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")),
        expr.str.to_date("%m/%d/%Y", strict=False).cast(pl.Datetime("us")),
    )


def _reconciles(base: pl.Expr, stock: pl.Expr, bonus: pl.Expr, total: pl.Expr) -> pl.Expr:
    """Base is given and base + stock + bonus (missing parts as 0) is within max($1,000, 2%) of the total."""
    diff = (base.fill_null(0) + stock.fill_null(0) + bonus.fill_null(0) - total).abs()
    return base.is_not_null() & ((diff <= RECONCILE_USD * MICRO) | (diff * RECONCILE_SHARE_DIVISOR <= total))


def _reject(frame: pl.LazyFrame, checks: list[tuple[str, pl.Expr, str]]) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Split `frame` by `checks` (field, bad-row condition, problem): the first failing check names the field."""
    failing = pl.coalesce([pl.when(bad.fill_null(False)).then(pl.lit(i)) for i, (_, bad, _) in enumerate(checks)])
    marked = frame.with_columns(failing.alias("_check")).collect().lazy()  # checked once, then split
    fields = [f for f, _, _ in checks]
    problems = [p for _, _, p in checks]
    rejected = marked.filter(pl.col("_check").is_not_null()).select(
        "file",
        "line",
        pl.col("_check").replace_strict(dict(enumerate(fields)), return_dtype=pl.String).alias("field"),
        pl.col("_check").replace_strict(dict(enumerate(problems)), return_dtype=pl.String).alias("problem"),
        pl.col("_raw_value").alias("value"),
    )
    return marked.filter(pl.col("_check").is_null()).drop("_check"), rejected


def _read_text(path: Path) -> tuple[str, pl.DataFrame]:
    """The file as all-text columns plus its shape; raise `SalaryFileError` when it is unreadable."""
    try:
        if path.suffix.lower() == ".json" or path.read_bytes()[:64].lstrip().startswith(b"["):
            frame = pl.read_json(path, schema=dict.fromkeys(CLASSIC_COLUMNS, pl.String))
            return "json", frame
        frame = pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, UnicodeDecodeError, OSError) as exc:
        raise SalaryFileError(f"{path}: not a readable salary file: {exc}") from exc
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    if "totalyearlycompensation" in frame.columns:
        missing = [c for c in CLASSIC_COLUMNS if c not in frame.columns]
        if missing:
            raise SalaryFileError(f"{path}: missing column {missing[0]!r} (the Levels.fyi submissions columns)")
        return "classic", frame
    if "total_p50" in frame.columns:
        return "vendor", frame
    raise SalaryFileError(
        f"{path}: not a salary file: expected the Levels.fyi columns ({', '.join(CLASSIC_COLUMNS[:6])}, ...) "
        "or a band table with total_p25..total_p90"
    )


def _bad_money(column: str) -> pl.Expr:
    return pl.col(column).is_not_null() & _micro(pl.col(column)).is_null()


def _submissions(path: Path, text: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Normalize Levels.fyi submissions (CSV or JSON records), rejecting rows that cannot make a band."""
    offset = 1 if path.suffix.lower() == ".json" else 2  # a JSON record's number; a CSV line after the header
    lf = (
        text.lazy()
        .select(CLASSIC_COLUMNS)
        .with_row_index("line", offset=offset)
        .with_columns(pl.col("line").cast(pl.Int64), pl.lit(str(path)).alias("file"))
        .with_columns([_null_markers(pl.col(c)).alias(c) for c in CLASSIC_COLUMNS])
    )
    money = {"base": "basesalary", "stock": "stockgrantvalue", "bonus": "bonus", "total": "totalyearlycompensation"}
    checks: list[tuple[str, pl.Expr, str]] = [
        ("timestamp", pl.col("timestamp").is_null(), "missing"),
        ("timestamp", _timestamp(pl.col("timestamp")).is_null(), "not a date"),
        ("company", pl.col("company").is_null(), "missing"),
        ("title", pl.col("title").is_null(), "missing"),
        ("level", pl.col("level").is_null(), "missing"),
        ("location", pl.col("location").is_null(), "missing"),
        ("totalyearlycompensation", pl.col("totalyearlycompensation").is_null(), "missing"),
        ("totalyearlycompensation", _bad_money("totalyearlycompensation"), "not an amount of money"),
        ("totalyearlycompensation", _micro(pl.col("totalyearlycompensation")) == 0, "zero (not given)"),
        *[(money[c], _bad_money(money[c]), "not an amount of money") for c in COMPONENTS],
    ]
    value = pl.coalesce([pl.when(bad.fill_null(False)).then(pl.col(field).cast(pl.String)) for field, bad, _ in checks])
    kept, rejected = _reject(lf.with_columns(value.alias("_raw_value")), checks)
    kept = kept.with_columns(
        _timestamp(pl.col("timestamp")).alias("submitted_at"),
        *[_micro(pl.col(money[c])).alias(c) for c in (*COMPONENTS, "total")],
    )
    median_total = kept.select(pl.col("total").median()).collect().item()
    thousands = median_total is not None and median_total < THOUSANDS_BELOW * MICRO
    scale = 1000 if thousands else 1
    kept = kept.with_columns(
        # 0 in a component means "not given"
        *[pl.when(pl.col(c) == 0).then(None).otherwise(pl.col(c) * scale).alias(c) for c in COMPONENTS],
        (pl.col("total") * scale).alias("total"),
    )
    # One component in thousands inside a dollar row: exactly one of base, stock, bonus times 1,000 reconciles.
    fixes = [
        _reconciles(*(pl.col(x) * 1000 if x == c else pl.col(x) for x in COMPONENTS), pl.col("total"))
        & pl.col(c).is_not_null()
        for c in COMPONENTS
    ]
    as_given = _reconciles(*(pl.col(c) for c in COMPONENTS), pl.col("total"))
    one_fix = (~as_given) & (pl.sum_horizontal([f.cast(pl.Int8) for f in fixes]) == 1)
    which = pl.coalesce([pl.when(one_fix & f).then(pl.lit(c)) for c, f in zip(COMPONENTS, fixes, strict=True)])
    kept = kept.with_columns(which.alias("component_in_thousands")).with_columns(
        *[
            pl.when(pl.col("component_in_thousands") == c).then(pl.col(c) * 1000).otherwise(pl.col(c)).alias(c)
            for c in COMPONENTS
        ]
    )
    kept = kept.with_columns(
        _reconciles(*(pl.col(c) for c in COMPONENTS), pl.col("total")).alias("reconciles"),
        *[_whole(pl.col(c)).alias(c) for c in (*COMPONENTS, "total")],
    ).with_columns(*[pl.when(pl.col(c) == 0).then(None).otherwise(pl.col(c)).alias(c) for c in COMPONENTS])
    kept = kept.rename({"company": "company_raw", "level": "level_raw", "location": "location_raw"})
    kept = with_locations(with_levels(with_companies(kept)))
    kept = kept.with_columns(
        clean_text(pl.col("title")).alias("title"),
        pl.col("yearsofexperience").cast(pl.Float64, strict=False).alias("years_of_experience"),
        pl.col("yearsatcompany").cast(pl.Float64, strict=False).alias("years_at_company"),
        pl.lit(thousands).alias("file_in_thousands"),
    )
    out = kept.select(SUBMISSIONS_SCHEMA.names()).cast(dict(SUBMISSIONS_SCHEMA)).collect()
    return out, rejected.collect()


def _vendor(path: Path, text: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Normalize a pre-aggregated band table (company or peer group, level, location, p25..p90 per component)."""
    if "company" not in text.columns and "peer_group" in text.columns:
        text = text.rename({"peer_group": "company"})
    for required in ("company", "level"):
        if required not in text.columns:
            raise SalaryFileError(f"{path}: missing column {required!r} (a band table needs company, level, total_p50)")
    optional = ("title", "location", "n", "as_of", *BAND_MONEY)
    text = text.with_columns([pl.lit(None, pl.String).alias(c) for c in optional if c not in text.columns])
    columns = ("company", "level", *optional)
    lf = (
        text.lazy()
        .select(columns)
        .with_row_index("line", offset=2)
        .with_columns(pl.col("line").cast(pl.Int64), pl.lit(str(path)).alias("file"))
        .with_columns([_null_markers(pl.col(c)).alias(c) for c in columns])
    )
    checks: list[tuple[str, pl.Expr, str]] = [
        ("company", pl.col("company").is_null(), "missing"),
        ("level", pl.col("level").is_null(), "missing"),
        ("total_p50", pl.col("total_p50").is_null(), "missing"),
        *[(c, _bad_money(c), "not an amount of money") for c in BAND_MONEY],
        ("n", pl.col("n").is_not_null() & ~pl.col("n").str.contains(r"^[1-9]\d*$"), "not a positive whole number"),
        (
            "as_of",
            pl.col("as_of").is_not_null() & pl.col("as_of").str.to_date("%Y-%m-%d", strict=False).is_null(),
            "not a date (YYYY-MM-DD)",
        ),
    ]
    value = pl.coalesce([pl.when(bad.fill_null(False)).then(pl.col(field)) for field, bad, _ in checks])
    kept, rejected = _reject(lf.with_columns(value.alias("_raw_value")), checks)
    kept = kept.with_columns(*[_micro(pl.col(c)).alias(c) for c in BAND_MONEY])
    median = kept.select(pl.col("total_p50").median()).collect().item()
    thousands = median is not None and median < THOUSANDS_BELOW * MICRO
    scale = 1000 if thousands else 1
    kept = kept.with_columns(*[_whole(pl.col(c) * scale).alias(c) for c in BAND_MONEY])
    kept = kept.rename({"company": "company_raw", "level": "level_raw", "location": "location_raw"})
    kept = with_locations(with_levels(with_companies(kept)))
    kept = kept.with_columns(
        pl.coalesce(clean_text(pl.col("title")), pl.lit(DEFAULT_TITLE)).alias("title"),
        pl.col("n").cast(pl.Int64),
        pl.col("as_of").str.to_date("%Y-%m-%d"),
        pl.lit(thousands).alias("file_in_thousands"),
    )
    out = kept.select(VENDOR_SCHEMA.names()).cast(dict(VENDOR_SCHEMA)).collect()
    return out, rejected.collect()


def read_salary_file(path: Path) -> SalaryFile:
    """Read one salary file of any shape: normalized rows, plus each rejected row with its line and field."""
    shape, text = _read_text(path)
    if shape == "vendor":
        vendor, rejected = _vendor(path, text)
        submissions = SUBMISSIONS_SCHEMA.to_frame()
    else:
        submissions, rejected = _submissions(path, text)
        vendor = VENDOR_SCHEMA.to_frame()
    return SalaryFile(
        path=path,
        shape=shape,
        rows_read=text.height,
        submissions=submissions,
        vendor=vendor,
        rejected=rejected.select(REJECTED_SCHEMA.names()).cast(dict(REJECTED_SCHEMA)).sort("line"),
    )


def unmapped_levels(submissions: pl.DataFrame, vendor: pl.DataFrame) -> pl.DataFrame:
    """Levels no ladder rule mapped, kept as written: (company, level, rows), most rows first."""
    both = pl.concat(
        [submissions.select("company", "level", "level_mapped"), vendor.select("company", "level", "level_mapped")]
    )
    return (
        both.filter(~pl.col("level_mapped"))
        .group_by("company", "level")
        .agg(pl.len().cast(pl.Int64).alias("rows"))
        .sort(["rows", "company", "level"], descending=[True, False, False])
    )


def unify_companies(frame: pl.DataFrame) -> pl.DataFrame:
    """Show each company in one spelling across all files loaded together: its most frequent one."""
    spelled = (
        frame.group_by("company_key", "company")
        .agg(pl.len().alias("_uses"))
        .sort(["company_key", "_uses", "company"], descending=[False, True, False])
        .group_by("company_key", maintain_order=True)
        .agg(pl.col("company").first().alias("_shown"))
    )
    return (
        frame.join(spelled, on="company_key", how="left", maintain_order="left")
        .with_columns(pl.col("_shown").alias("company"))
        .drop("_shown")
    )
