"""Reference data (roster, aliases, scopes, salaries): validated on load, stored as Parquet in reference/.

Reference files are small and curated by people, so a bad row fails the whole load with the file,
line and field named, instead of silently changing who is attributed or which band applies.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.config import Settings
from pipelines.services.storage import replace_parquet
from transforms.fx import FX_RATES_SCHEMA, MAX_UNITS_PER_USD, MIN_UNITS_PER_USD, cross_rates
from transforms.identity import IDENTITIES_SCHEMA
from transforms.salaries import SUBMISSIONS_SCHEMA, VENDOR_SCHEMA, SalaryFileError

VENDOR_KIND = "salary_vendor_bands"  # stored by a `salaries` load of a band table

KINDS: dict[str, pl.Schema] = {
    "roster": pl.Schema(
        {
            "engineer_id": pl.String,
            "email": pl.String,
            "name": pl.String,
            "team": pl.String,
            "cost_centre": pl.String,
            "level": pl.String,
            "title": pl.String,
            "location": pl.String,
            "valid_from": pl.Date,
            "valid_to": pl.Date,
        }
    ),
    "aliases": pl.Schema(
        {"engineer_id": pl.String, "kind": pl.String, "value": pl.String, "valid_from": pl.Date, "valid_to": pl.Date}
    ),
    # A shared route (a shared key, a gateway key) and who uses it: its metered spend is split among these
    # members only, in proportion to their observational list cost (DESIGN "Shared route").
    "route_members": pl.Schema(
        {
            "provider": pl.String,
            "principal_kind": pl.String,
            "principal_id": pl.String,
            "engineer_id": pl.String,
            "valid_from": pl.Date,
            "valid_to": pl.Date,
        }
    ),
    "scopes": pl.Schema(
        {
            "provider": pl.String,
            "scope_kind": pl.String,
            "scope_id": pl.String,
            "name": pl.String,
            "cost_centre": pl.String,
            "valid_from": pl.Date,
            "valid_to": pl.Date,
        }
    ),
    "seat_prices": pl.Schema(
        {
            "provider": pl.String,
            "plan": pl.String,
            "price_usd": pl.String,  # exact decimal text, parsed by the seat pricing rule
            "period": pl.String,
            "valid_from": pl.Date,
            "valid_to": pl.Date,
        }
    ),
    # Normalized Levels.fyi-style submissions and vendor band rows (transforms/salaries.py reads the three shapes).
    "salaries": SUBMISSIONS_SCHEMA,
    VENDOR_KIND: VENDOR_SCHEMA,
}
# Exchange rates: units of `currency` per USD on `date` (read by `read_fx_rates`; loads accumulate by date).
FX_RATES = "fx_rates"
KINDS[FX_RATES] = FX_RATES_SCHEMA
# An HR snapshot: the roster as of one `snapshot_date`, no validity columns needed (valid_from, if given, is the hire
# date). `tokencomp reference load roster` stores each under reference/roster_snapshots/<date>.parquet; the kind is
# listed so the warehouse registers the union as `src_roster_snapshots`.
ROSTER_SNAPSHOTS = "roster_snapshots"
KINDS[ROSTER_SNAPSHOTS] = pl.Schema({**KINDS["roster"], "snapshot_date": pl.Date})
# Identities from the providers' own key and user lists (`tokencomp reference pull`, pipelines/services/identity.py):
# derived from the pulled pages kept under reference/identity/, never loaded from a CSV.
PULLED_IDENTITIES = "pulled_identities"
KINDS[PULLED_IDENTITIES] = IDENTITIES_SCHEMA
# Provider invoices, one row per line (pipelines/services/invoices.py validates and accumulates them).
KINDS["invoices"] = pl.Schema(
    {
        "provider": pl.String,
        "invoice_id": pl.String,
        "period": pl.Date,
        "currency": pl.String,
        "total": pl.Decimal(38, 12),
        "line_kind": pl.String,
        "line_amount": pl.Decimal(38, 12),
        "description": pl.String,
    }
)
# The kinds a person names on `tokencomp reference load` (snapshots arrive as `roster`).
USER_KINDS: tuple[str, ...] = tuple(k for k in KINDS if k not in (ROSTER_SNAPSHOTS, PULLED_IDENTITIES, VENDOR_KIND))
REQUIRED: dict[str, tuple[str, ...]] = {
    "roster": ("engineer_id", "email", "level", "location", "valid_from"),
    ROSTER_SNAPSHOTS: ("engineer_id", "email", "level", "location", "snapshot_date"),
    "aliases": ("engineer_id", "kind", "value"),
    "route_members": ("provider", "principal_kind", "principal_id", "engineer_id"),
    "scopes": ("provider", "scope_kind", "scope_id"),
    "seat_prices": ("provider", "plan", "price_usd", "period"),
}
LATER_KINDS: tuple[str, ...] = ()

# Identity kinds an alias may have: each equals the `principal_kind` of the usage rows it resolves.
ALIAS_KINDS: tuple[str, ...] = (
    "email",
    "api_key_id",
    "api_key_name",
    "anthropic_account_id",
    "service_account_id",
    "openai_user_id",
    "iam_principal",
    "gcp_label",
    "azure_tag",
    "litellm_user",
    "litellm_key_alias",
    "openrouter_key",
    "openrouter_user",
    "github_login",
    "cursor_email",
)
# Values of these kinds match case-insensitively (stored lower-cased; usage principals are lowered too).
CASE_INSENSITIVE_KINDS: tuple[str, ...] = ("email", "cursor_email", "github_login", "iam_principal")


class ReferenceError(ValueError):
    """A reference file that cannot be loaded; the message names file, line and field."""


def _typed(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Parse CSV text leniently (null on failure) so the caller can name the first bad cell."""
    if dtype == pl.Date:
        return expr.str.to_date("%Y-%m-%d", strict=False)
    if dtype == pl.Int64:
        return expr.str.to_integer(strict=False)
    return expr


def read_reference_file(kind: str, path: Path) -> pl.DataFrame:
    """Read and validate one CSV of a reference kind; raise `ReferenceError` naming file, line and field."""
    schema = KINDS[kind]
    try:
        text = pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, UnicodeDecodeError) as exc:
        raise ReferenceError(f"{path}: not a readable CSV: {exc}") from exc
    missing = [c for c in schema.names() if c not in text.columns]
    if missing:
        raise ReferenceError(f"{path}: missing column {missing[0]!r}")
    text = text.select(schema.names()).with_row_index("line", offset=2)
    typed = text.with_columns(
        [_typed(pl.col(c).str.strip_chars().replace("", None), t).alias(c) for c, t in schema.items()]
    )
    for column, dtype in schema.items():
        bad_cast = typed.filter(pl.col(column).is_null() & text[column].str.strip_chars().ne(""))
        bad_null = typed.filter(pl.col(column).is_null()) if column in REQUIRED[kind] else bad_cast.clear()
        bad = pl.concat([bad_cast, bad_null]).sort("line")
        if bad.height:
            line = bad["line"][0]
            value = text.filter(pl.col("line") == line)[column][0]
            problem = "missing" if value is None or not str(value).strip() else f"not a valid {dtype}: {value!r}"
            raise ReferenceError(f"{path}:{line}: field {column!r}: {problem}")
    if kind == "aliases":
        unknown = typed.filter(~pl.col("kind").is_in(ALIAS_KINDS))
        if unknown.height:
            line, value = unknown["line"][0], unknown["kind"][0]
            raise ReferenceError(
                f"{path}:{line}: field 'kind': unknown alias kind {value!r} (expected one of {', '.join(ALIAS_KINDS)})"
            )
        typed = typed.with_columns(
            pl.when(pl.col("kind").is_in(CASE_INSENSITIVE_KINDS))
            .then(pl.col("value").str.to_lowercase())
            .otherwise(pl.col("value"))
            .alias("value")
        )
    if kind == "route_members":
        typed = _check_route_members(path, typed)
    if kind in ("roster", ROSTER_SNAPSHOTS):
        typed = typed.with_columns(pl.col("email").str.to_lowercase())
    if kind == "seat_prices":
        bad = typed.filter(
            ~pl.col("period").is_in(["month", "year"]) | ~pl.col("price_usd").str.contains(r"^\d+(\.\d{1,12})?$")
        )
        if bad.height:
            row = bad.row(0, named=True)
            field = "period" if row["period"] not in ("month", "year") else "price_usd"
            raise ReferenceError(f"{path}:{row['line']}: field {field!r}: not valid: {row[field]!r}")
    return typed.drop("line")


def _check_route_members(path: Path, typed: pl.DataFrame) -> pl.DataFrame:
    """Validate route members (a known identity kind, a non-empty date range); lower-case the ids
    of case-insensitive kinds so they match usage principals as aliases do."""
    checks = (
        ("principal_kind", ~pl.col("principal_kind").is_in(ALIAS_KINDS), f"expected one of {', '.join(ALIAS_KINDS)}"),
        ("valid_to", pl.col("valid_to") <= pl.col("valid_from"), "not after valid_from (valid_to is exclusive)"),
    )
    for field, bad, expected in checks:
        rows = typed.filter(bad.fill_null(False))
        if rows.height:
            row = rows.row(0, named=True)
            raise ReferenceError(f"{path}:{row['line']}: field {field!r}: not valid: {str(row[field])!r} ({expected})")
    return typed.with_columns(
        pl.when(pl.col("principal_kind").is_in(CASE_INSENSITIVE_KINDS))
        .then(pl.col("principal_id").str.to_lowercase())
        .otherwise(pl.col("principal_id"))
        .alias("principal_id")
    )


def load_reference(settings: Settings, kind: str, paths: list[Path]) -> int:
    """Replace the stored reference of `kind` with the rows of `paths` (validated); return the row count."""
    if kind in LATER_KINDS:
        raise ReferenceError(f"reference kind {kind!r} is not supported yet (monthly invoice tie-out is not built)")
    if kind == PULLED_IDENTITIES:
        raise ReferenceError(f"{kind} comes from the providers' key and user lists: run `tokencomp reference pull`")
    if kind not in KINDS:
        raise ReferenceError(f"unknown reference kind {kind!r}; expected one of {', '.join(KINDS)}")
    if kind == "salaries":
        from pipelines.services.salaries import load_salaries  # it imports this module

        try:
            return load_salaries(settings, paths).loaded
        except SalaryFileError as exc:
            raise ReferenceError(str(exc)) from exc
    files: list[Path] = []
    for p in paths:
        if not p.exists():
            raise ReferenceError(f"{p}: no such file or directory")
        files.extend(sorted(f for f in p.rglob("*.csv")) if p.is_dir() else [p])
    if not files:
        raise ReferenceError(f"no CSV files for {kind} in {', '.join(map(str, paths))}")
    if kind in ("roster", ROSTER_SNAPSHOTS):
        return _load_roster(settings, files, snapshots_only=kind == ROSTER_SNAPSHOTS)
    if kind == FX_RATES:
        return _load_fx_rates(settings, files)
    if kind == "invoices":
        from pipelines.services.invoices import load_invoices

        return load_invoices(settings, files)
    frame = pl.concat([read_reference_file(kind, f) for f in files]).unique(maintain_order=True)
    replace_parquet(frame, settings.reference / f"{kind}.parquet")
    return frame.height


def reference_frame(settings: Settings, kind: str) -> pl.DataFrame:
    """The stored reference of `kind`, or an empty frame of its schema when none was loaded."""
    if kind == ROSTER_SNAPSHOTS:
        return roster_snapshots_frame(settings)
    path = settings.reference / f"{kind}.parquet"
    return pl.read_parquet(path) if path.exists() else KINDS[kind].to_frame()


def _is_snapshot(path: Path) -> bool:
    """Whether a roster CSV is an HR snapshot (it has a `snapshot_date` column) rather than effective-dated."""
    try:
        return "snapshot_date" in pl.read_csv(path, n_rows=0, infer_schema=False).columns
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, UnicodeDecodeError):
        return False  # read_reference_file names the problem


def read_roster_snapshot(path: Path) -> pl.DataFrame:
    """Read one HR snapshot: who was employed as of its single `snapshot_date`, with a `line` column for errors.

    A file mixing dates, or a hire date after the snapshot that lists the engineer, fails naming file, line and field.
    """
    frame = read_reference_file(ROSTER_SNAPSHOTS, path).with_row_index("line", offset=2)
    if not frame.height:
        raise ReferenceError(f"{path}: no rows, so no snapshot_date")
    day = frame["snapshot_date"][0]
    mixed = frame.filter(pl.col("snapshot_date") != day)
    if mixed.height:
        line, other = mixed["line"][0], mixed["snapshot_date"][0]
        raise ReferenceError(
            f"{path}:{line}: field 'snapshot_date': {other} differs from {day} on line 2 (one snapshot date per file)"
        )
    late = frame.filter(pl.col("valid_from") > pl.col("snapshot_date"))
    if late.height:
        line, hired = late["line"][0], late["valid_from"][0]
        raise ReferenceError(f"{path}:{line}: field 'valid_from': hire date {hired} is after snapshot_date {day}")
    return frame


def _load_roster(settings: Settings, files: list[Path], *, snapshots_only: bool) -> int:
    """Store roster files: effective-dated ones replace reference/roster.parquet, snapshots accumulate by date.

    Every file is validated before anything is written. Reloading a snapshot date replaces that date only.
    """
    effective: list[pl.DataFrame] = []
    snapshots: list[pl.DataFrame] = []
    for f in files:
        if snapshots_only or _is_snapshot(f):
            snapshots.append(read_roster_snapshot(f).with_columns(pl.lit(str(f)).alias("file")))
        else:
            effective.append(read_reference_file("roster", f))
    columns = KINDS[ROSTER_SNAPSHOTS].names()
    stacked = (
        pl.concat(snapshots).unique(subset=columns, keep="first", maintain_order=True)
        if snapshots
        else KINDS[ROSTER_SNAPSHOTS].to_frame()
    )
    twice = stacked.filter(pl.int_range(pl.len()).over("snapshot_date", "engineer_id") > 0)
    if twice.height:
        row = twice.row(0, named=True)
        raise ReferenceError(
            f"{row['file']}:{row['line']}: field 'engineer_id': {row['engineer_id']!r} is listed twice "
            f"in the {row['snapshot_date']} snapshot"
        )
    rows = 0
    if effective:
        frame = pl.concat(effective).unique(maintain_order=True)
        replace_parquet(frame, settings.reference / "roster.parquet")
        rows += frame.height
    for (day,), part in stacked.select(columns).partition_by("snapshot_date", as_dict=True).items():
        replace_parquet(part.sort("engineer_id"), settings.reference / ROSTER_SNAPSHOTS / f"{day}.parquet")
        rows += part.height
    return rows


def roster_snapshots_frame(settings: Settings) -> pl.DataFrame:
    """Every stored HR snapshot stacked: one row per engineer per snapshot date they were employed on."""
    schema = KINDS[ROSTER_SNAPSHOTS]
    folder = settings.reference / ROSTER_SNAPSHOTS
    stored = sorted(p for p in folder.glob("*.parquet") if not p.name.startswith((".", "_")))
    return pl.read_parquet(stored).select(schema.names()).cast(dict(schema)) if stored else schema.to_frame()


_RATE_TEXT = r"^\d+(\.\d{1,12})?$"
_CURRENCY_TEXT = r"^[A-Z]{3}$"


def _fail_first(bad: pl.DataFrame, path: Path, field: pl.Expr | str, problem: str) -> None:
    """Raise `ReferenceError` for the first row of `bad` (columns `line`, `value` and the field name)."""
    if bad.height:
        row = bad.sort("line").row(0, named=True)
        name = row["field"] if isinstance(field, pl.Expr) else field
        raise ReferenceError(f"{path}:{row['line']}: field {name!r}: {problem}: {row['value']!r}")


def _ecb_long(path: Path, text: pl.DataFrame) -> pl.DataFrame:
    """The ECB reference-rate CSV (`Date,USD,JPY,...`, X per EUR, `N/A` for no rate, a trailing comma; the
    daily file also pads cells with spaces and writes dates as `07 March 2025`) as `line, date, currency,
    per_eur`, validated."""
    text = text.rename({c: c.strip() for c in text.columns})
    text = text.select([c for c in text.columns if c]).with_row_index("line", offset=2)
    currencies = [c for c in text.columns if c not in ("line", "Date")]
    bad_name = [c for c in currencies if not pl.Series([c]).str.contains(_CURRENCY_TEXT).item()]
    if bad_name:
        raise ReferenceError(f"{path}:1: field {bad_name[0]!r}: not a currency code (the ECB header is Date,USD,...)")
    dated = text.with_columns(pl.col("Date").str.strip_chars().alias("value")).with_columns(
        pl.coalesce(
            pl.col("value").str.to_date("%Y-%m-%d", strict=False),
            pl.col("value").str.to_date("%d %B %Y", strict=False),
        ).alias("date")
    )
    _fail_first(dated.filter(pl.col("date").is_null()), path, "Date", "not a date")
    twice = dated.filter(pl.col("date").is_duplicated() & (pl.int_range(pl.len()).over("date") > 0))
    _fail_first(twice.with_columns(pl.col("date").cast(pl.String).alias("value")), path, "Date", "a second row for")
    long = (
        dated.select("line", "date", *currencies)
        .unpivot(index=["line", "date"], on=currencies, variable_name="currency", value_name="value")
        .with_columns(pl.col("value").str.strip_chars())
        .filter(pl.col("value").is_not_null() & ~pl.col("value").is_in(["", "N/A"]))
    )
    bad = long.filter(~pl.col("value").str.contains(_RATE_TEXT) | pl.col("value").str.contains(r"^[0.]*$"))
    _fail_first(bad.rename({"currency": "field"}), path, pl.col("field"), "not a positive rate")
    return long.select("line", "date", "currency", pl.col("value").str.to_decimal(scale=12).alias("per_eur"))


def read_fx_rates(path: Path) -> pl.DataFrame:
    """Read one exchange-rate CSV into `date, currency, units_per_usd` (units of the currency per USD).

    Two formats: our own (`date,currency,units_per_usd`, one rate per currency and day, USD itself
    omitted or 1) and the ECB's euro reference rates (recognised by the header `Date,USD,...`), whose
    EUR-based rates become rates per USD through the EUR cross rate (`transforms.fx.cross_rates`).
    Every rate must lie in [0.01, 10^9] units per USD. A bad cell raises `ReferenceError` naming file,
    line and field.
    """
    try:
        text = pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, UnicodeDecodeError) as exc:
        raise ReferenceError(f"{path}: not a readable CSV: {exc}") from exc
    header = [c.strip() for c in text.columns]
    if header[:1] == ["Date"] and "USD" in header:
        long = _ecb_long(path, text)
        lines = long.filter(pl.col("currency") == "USD").select("date", "line")
        rates = cross_rates(long.drop("line")).join(lines, on="date", how="left")
        # a cross rate comes from two cells of one line; name the currency's own cell (EUR: the USD cell)
        rates = rates.with_columns(
            pl.when(pl.col("currency") == "EUR").then(pl.lit("USD")).otherwise("currency").alias("field")
        )
    else:
        missing = [c for c in FX_RATES_SCHEMA.names() if c not in text.columns]
        if missing:
            raise ReferenceError(
                f"{path}: missing column {missing[0]!r} "
                "(expected date,currency,units_per_usd, or the ECB's Date,USD,...)"
            )
        text = text.with_row_index("line", offset=2).with_columns(
            pl.col("date").str.strip_chars().alias("date_text"),
            pl.col("currency").str.strip_chars().str.to_uppercase().fill_null(""),
            pl.col("units_per_usd").str.strip_chars().fill_null(""),
        )
        typed = text.with_columns(pl.col("date_text").str.to_date("%Y-%m-%d", strict=False).alias("date"))
        _fail_first(typed.filter(pl.col("date").is_null()).rename({"date_text": "value"}), path, "date", "not a date")
        _fail_first(
            typed.filter(~pl.col("currency").str.contains(_CURRENCY_TEXT)).with_columns(
                pl.col("currency").alias("value")
            ),
            path,
            "currency",
            "not a currency code",
        )
        _fail_first(
            typed.filter(~pl.col("units_per_usd").str.contains(_RATE_TEXT)).with_columns(
                pl.col("units_per_usd").alias("value")
            ),
            path,
            "units_per_usd",
            "not a decimal rate with at most 12 decimals",
        )
        rates = typed.with_columns(
            pl.col("units_per_usd").str.to_decimal(scale=12), pl.lit("units_per_usd").alias("field")
        )
        usd = rates.filter(pl.col("currency") == "USD")
        _fail_first(
            usd.filter(pl.col("units_per_usd") != 1).with_columns(
                pl.col("units_per_usd").cast(pl.String).alias("value")
            ),
            path,
            "units_per_usd",
            "a USD rate must be 1",
        )
        rates = rates.filter(pl.col("currency") != "USD")
        twice = rates.filter(pl.int_range(pl.len()).over("date", "currency") > 0)
        _fail_first(
            twice.with_columns((pl.col("date").cast(pl.String) + " " + pl.col("currency")).alias("value")),
            path,
            "currency",
            "a second rate for",
        )
    out_of_range = rates.filter(~pl.col("units_per_usd").is_between(MIN_UNITS_PER_USD, MAX_UNITS_PER_USD))
    _fail_first(
        out_of_range.with_columns((pl.col("currency") + " " + pl.col("units_per_usd").cast(pl.String)).alias("value")),
        path,
        pl.col("field"),
        f"units per USD outside [{MIN_UNITS_PER_USD}, {MAX_UNITS_PER_USD}]",
    )
    return rates.select(FX_RATES_SCHEMA.names()).cast(dict(FX_RATES_SCHEMA)).sort("date", "currency")  # type: ignore[arg-type]


def _load_fx_rates(settings: Settings, files: list[Path]) -> int:
    """Add the rates of `files` to reference/fx_rates.parquet; a (date, currency) loaded again takes the new rate.

    Loads accumulate, so the ECB's daily file can be loaded every day. Two files of one load that disagree on a
    (date, currency) fail naming both. Returns the number of rates loaded.
    """
    frames = [read_fx_rates(f).with_columns(pl.lit(str(f)).alias("file")) for f in files]
    new = pl.concat(frames).unique(subset=["date", "currency", "units_per_usd"], keep="first", maintain_order=True)
    clash = new.filter(pl.len().over("date", "currency") > 1)
    if clash.height:
        a, b = clash.sort("date", "currency").head(2).iter_rows(named=True)
        raise ReferenceError(
            f"{b['file']}: field 'units_per_usd': {b['currency']} on {b['date']} is {b['units_per_usd']}, "
            f"but {a['file']} says {a['units_per_usd']}"
        )
    new = new.drop("file")
    stored = reference_frame(settings, FX_RATES).join(new, on=["date", "currency"], how="anti")
    replace_parquet(pl.concat([stored, new]).sort("date", "currency"), settings.reference / f"{FX_RATES}.parquet")
    return new.height
