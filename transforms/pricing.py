"""List prices: an effective-dated price table from genai-prices' bundled data plus local overrides, joined to usage.

**Catalog.** The pinned genai-prices snapshot is read once per (provider, model, price period, price variant),
never per row. Each price per million tokens is obtained by asking genai-prices to price a probe request of one
token kind, so its own fallbacks (e.g. OpenAI cache writes billed as input) hold here too. A new period starts at
every start date of a catalog price or price variant. Usage rows are then priced by one DuckDB join
(`sql/price_usage.sql`).

**Service tiers and speed.** The catalog prices some requests by their context ("price variants"): batch
processing (both providers), OpenAI's `flex`, `priority` and `fast` service tiers, and Anthropic's fast mode
(`speed = 'fast'`), each effective-dated like any other price. `price_context` turns a usage row's
`service_tier` and `speed` into that context. The join takes the row of the usage row's tier and speed, else
of its tier, else of its speed, else the standard price (null `service_tier` and `speed`). The table holds a
tier or speed row only where it changes that outcome, so a tier the catalog does not price differently
(Anthropic `priority`, OpenAI `default`) pays the standard price, exactly as genai-prices does.

**Overrides** (`load_overrides`; the packaged default `price_overrides.csv` is header-only). Each CSV row is one
of these:
- *Replacement*: all five base prices (and, for a long-context tier, `tier_threshold` with all five tier
  prices) for a catalog model replace its price over [effective_from, effective_to) for that `service_tier`.
  An empty tier means the standard price, which every tier without its own row follows. It prices the
  standard speed: fast-mode rows keep their catalog price. Use it for a correction or a negotiated price.
- *Discount*: `discount_pct` alone takes that percentage off the price in force (after any replacement) of
  the model, or of every model of the provider when `model` is empty, over the range. An empty
  `service_tier` means every tier and speed. Discounted prices are rounded half-even to 9 places.
- *Added model*: prices for a model the catalog does not know add it. `model` is the canonical id.
  `model_pattern` selects the raw model names: a name equal to it, or one it matches as a regex with
  `re.fullmatch`. When empty, the raw name must equal `model`. A pattern row without prices maps raw names
  to a model the catalog or another row prices. Patterns are tried in file order, before the catalog's own
  matching, once per distinct raw name; the first match wins.

Empty dates are unbounded and `effective_to` is exclusive. Overlapping replacements of one (provider, model,
tier), and discounts whose scopes overlap, are rejected. Rows priced through an override carry `price_version`
`genai-prices X+overrides:<first 12 hex of the file's sha256>`; other rows keep the catalog version.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import re
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from importlib.resources import as_file, files
from pathlib import Path

import polars as pl
from genai_prices import data_snapshot

from transforms.common import connect
from transforms.price_catalog import (
    EPOCH,
    PRICE_COLUMNS,
    PRICE_PLACES,
    PRICE_TABLE_SCHEMA,
    PRICE_VERSION,
    TIER_COLUMNS,
    price_context,
    price_table,
)
from transforms.schema import PRICE
from transforms.sources import catalog_providers, per_request_sources

# the catalog's names that callers of pricing use
__all__ = ["PRICE_TABLE_SCHEMA", "PRICE_VERSION", "price_context", "price_table"]

OVERRIDE_COLUMNS: tuple[str, ...] = (
    "provider",
    "model",
    "model_pattern",
    "effective_from",
    "effective_to",
    "service_tier",
    *PRICE_COLUMNS,
    "tier_threshold",
    *TIER_COLUMNS,
    "discount_pct",
    "note",
)

OVERRIDES_SCHEMA = pl.Schema(
    {
        "provider": pl.String,
        "model": pl.String,
        "model_pattern": pl.String,
        "effective_from": pl.Date,
        "effective_to": pl.Date,
        "service_tier": pl.String,
        **dict.fromkeys(PRICE_COLUMNS, PRICE),
        "tier_threshold": pl.Int64,
        **dict.fromkeys(TIER_COLUMNS, PRICE),
        "discount_pct": pl.Decimal(9, 6),
        "note": pl.String,
        "line": pl.Int64,
        "price_version": pl.String,
    }
)

MODEL_MAP_SCHEMA = pl.Schema(
    {"provider": pl.String, "model_raw": pl.String, "model_id": pl.String, "override_version": pl.String}
)


# --- overrides ---------------------------------------------------------------------------------------------

_DECIMAL_TEXT = re.compile(r"\d+(\.\d+)?")
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")
_ID_TEXT = re.compile(r"[a-z0-9][a-z0-9_.-]*")


@dataclasses.dataclass(frozen=True)
class _Cells:
    """One overrides CSV row as text, with what an error message needs to point at it."""

    path: Path
    line: int
    cells: dict[str, str]

    def error(self, field: str, reason: str) -> ValueError:
        return ValueError(f"{self.path}:{self.line}: field {field!r}: {reason}")

    def text(self, field: str) -> str | None:
        return self.cells[field] or None

    def ident(self, field: str) -> str | None:
        value = self.text(field)
        if value is not None and not _ID_TEXT.fullmatch(value):
            raise self.error(field, f"{value!r} is not an id (lowercase letters, digits, '_', '.', '-')")
        return value

    def day(self, field: str) -> date | None:
        value = self.text(field)
        if value is None:
            return None
        try:
            if not _DATE_TEXT.fullmatch(value):
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            raise self.error(field, f"{value!r} is not a date (YYYY-MM-DD)") from None

    def decimal(self, field: str, places: int, below: Decimal) -> Decimal | None:
        value = self.text(field)
        if value is None:
            return None
        if not _DECIMAL_TEXT.fullmatch(value):
            raise self.error(field, f"{value!r} is not a non-negative decimal number")
        number = Decimal(value)
        if -number.as_tuple().exponent > places:  # type: ignore[operator]
            raise self.error(field, f"{value!r} has more than {places} decimal places")
        if number >= below:
            raise self.error(field, f"{value!r} is too large (must be below {below})")
        return number

    def integer(self, field: str) -> int | None:
        value = self.text(field)
        if value is None:
            return None
        if not value.isascii() or not value.isdigit() or int(value) == 0:
            raise self.error(field, f"{value!r} is not a positive whole number")
        return int(value)


def _overlap(a_from: date | None, a_to: date | None, b_from: date | None, b_to: date | None) -> bool:
    """Whether [a_from, a_to) and [b_from, b_to) share a day; None is unbounded."""
    return (a_from or EPOCH) < (b_to or date.max) and (b_from or EPOCH) < (a_to or date.max)


@dataclasses.dataclass(frozen=True)
class _Override:
    """One validated overrides row."""

    provider: str
    model: str | None
    model_pattern: str | None
    effective_from: date | None
    effective_to: date | None
    service_tier: str | None
    prices: dict[str, Decimal | None]  # every base and tier price column
    tier_threshold: int | None
    discount_pct: Decimal | None
    note: str | None
    line: int

    @property
    def has_prices(self) -> bool:
        return self.prices[PRICE_COLUMNS[0]] is not None

    def overlaps(self, other: _Override) -> bool:
        return _overlap(self.effective_from, self.effective_to, other.effective_from, other.effective_to)

    def record(self, tag: str) -> dict[str, object]:
        """The row as `OVERRIDES_SCHEMA` holds it."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "prices"}
        return {**fields, **self.prices, "price_version": tag}


def _parse_override(row: _Cells) -> _Override:
    """Validate one overrides row; which cells are filled decides its kind (module docstring)."""
    provider = row.ident("provider")
    if provider is None:
        raise row.error("provider", "required")
    o = _Override(
        provider=provider,
        model=row.text("model"),
        model_pattern=row.text("model_pattern"),
        effective_from=row.day("effective_from"),
        effective_to=row.day("effective_to"),
        service_tier=row.ident("service_tier"),
        prices={c: row.decimal(c, 9, Decimal(10) ** 9) for c in (*PRICE_COLUMNS, *TIER_COLUMNS)},
        tier_threshold=row.integer("tier_threshold"),
        discount_pct=row.decimal("discount_pct", 6, Decimal(1000)),
        note=row.text("note"),
        line=row.line,
    )
    if o.service_tier in ("standard", "default"):
        raise row.error("service_tier", "leave it empty for the standard price")
    if o.effective_from is not None and o.effective_to is not None and o.effective_from >= o.effective_to:
        raise row.error("effective_to", f"{o.effective_to} is not after effective_from {o.effective_from}")
    if o.model_pattern is not None:
        try:
            re.compile(o.model_pattern)
        except re.error as exc:
            raise row.error("model_pattern", f"{o.model_pattern!r} is not a regular expression ({exc})") from None
    base = [o.prices[c] for c in PRICE_COLUMNS]
    tier = [o.tier_threshold, *(o.prices[c] for c in TIER_COLUMNS)]
    if o.discount_pct is not None:
        if any(v is not None for v in base + tier):
            raise row.error("discount_pct", "give prices or discount_pct, not both")
        if o.model_pattern is not None:
            raise row.error("model_pattern", "a discount row cannot map model names")
        if not Decimal(0) < o.discount_pct <= Decimal(100):
            raise row.error("discount_pct", f"{o.discount_pct} is not above 0 and at most 100")
        return o
    if o.model is None:
        raise row.error("model", "required unless the row is a provider-wide discount")
    if any(v is not None for v in tier):
        for field, value in zip(("tier_threshold", *TIER_COLUMNS), tier, strict=True):
            if value is None:
                raise row.error(field, "required for a long-context tier")
    if any(v is not None for v in base + tier):
        for field, value in zip(PRICE_COLUMNS, base, strict=True):
            if value is None:
                raise row.error(field, "required when prices are given")
    elif o.model_pattern is None:
        raise row.error(PRICE_COLUMNS[0], "a row needs prices, discount_pct or model_pattern")
    return o


def _check_overrides(rows: list[_Override], path: Path) -> None:
    """File-level rules: every model named is priced somewhere, and no two rows claim the same prices."""
    known = set(price_table().select("provider", "model").unique().iter_rows())
    priced = {(o.provider, o.model) for o in rows if o.has_prices}
    for o in rows:
        if o.model is not None and (o.provider, o.model) not in known | priced:
            raise ValueError(
                f"{path}:{o.line}: field 'model': {o.provider}/{o.model} is not in {PRICE_VERSION}; give its prices"
            )
    for i, a in enumerate(rows):
        for b in rows[:i]:
            if a.provider != b.provider or not a.overlaps(b):
                continue
            if a.has_prices and b.has_prices and (a.model, a.service_tier) == (b.model, b.service_tier):
                raise ValueError(f"{path}:{a.line}: field 'effective_from': overlaps the prices on line {b.line}")
            if (
                a.discount_pct is not None
                and b.discount_pct is not None
                and (None in (a.model, b.model) or a.model == b.model)
                and (None in (a.service_tier, b.service_tier) or a.service_tier == b.service_tier)
            ):
                raise ValueError(f"{path}:{a.line}: field 'discount_pct': overlaps the discount on line {b.line}")


def load_overrides(path: Path) -> pl.DataFrame:
    """Read and strictly validate a local price overrides CSV (what its rows mean: the module docstring).

    Prices are read from their decimal text, never through floats. A bad cell raises ValueError naming the
    file, line and field. Each row carries `price_version`, which names the file's sha256.
    """
    data = path.read_bytes()
    tag = f"{PRICE_VERSION}+overrides:{hashlib.sha256(data).hexdigest()[:12]}"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[_Override] = []
    try:
        names = [name.strip() for name in next(reader, [])]
        if sorted(names) != sorted(OVERRIDE_COLUMNS):
            missing = sorted(set(OVERRIDE_COLUMNS) - set(names))
            unknown = sorted(n for n in set(names) if n not in OVERRIDE_COLUMNS or names.count(n) > 1)
            raise ValueError(f"{path}:1: header: missing columns {missing}, unknown or repeated columns {unknown}")
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(names):
                raise ValueError(f"{path}:{reader.line_num}: expected {len(names)} fields, found {len(record)}")
            cells = {name: cell.strip() for name, cell in zip(names, record, strict=True)}
            rows.append(_parse_override(_Cells(path, reader.line_num, cells)))
    except csv.Error as exc:
        raise ValueError(f"{path}:{reader.line_num}: {exc}") from None
    _check_overrides(rows, path)
    return pl.DataFrame([o.record(tag) for o in rows], schema=OVERRIDES_SCHEMA)


def default_overrides() -> pl.DataFrame:
    """The packaged overrides file (`transforms/price_overrides.csv`, header only unless edited)."""
    with as_file(files("transforms").joinpath("price_overrides.csv")) as path:
        return load_overrides(path)


def _outside(row: dict[str, object], start: date, end: date | None) -> list[dict[str, object]]:
    """The parts of a price row's date range before `start` and from `end` on."""
    r_from, r_to = _range(row)
    if not _overlap(r_from, r_to, start, end):
        return [row]
    pieces = [{**row, "effective_to": start}] if r_from < start else []
    if end is not None and (r_to is None or end < r_to):
        pieces.append({**row, "effective_from": end})
    return pieces


def _inside(row: dict[str, object], start: date, end: date | None) -> tuple[date, date | None] | None:
    """The part of a price row's date range within [start, end), or None when they do not meet."""
    r_from, r_to = _range(row)
    if not _overlap(r_from, r_to, start, end):
        return None
    return max(r_from, start), (r_to if end is None else end if r_to is None else min(r_to, end))


def _range(row: dict[str, object]) -> tuple[date, date | None]:
    r_from, r_to = row["effective_from"], row["effective_to"]
    assert isinstance(r_from, date) and (r_to is None or isinstance(r_to, date))
    return r_from, r_to


def _gaps(start: date, end: date | None, covered: list[tuple[date, date | None]]) -> list[tuple[date, date | None]]:
    """The parts of [start, end) that no range in `covered` reaches."""
    out: list[tuple[date, date | None]] = []
    cursor: date | None = start
    for c_from, c_to in sorted(covered):
        if cursor is None or (end is not None and c_from >= end):
            break
        if c_to is not None and c_to <= cursor:
            continue
        if c_from > cursor:
            out.append((cursor, c_from))
        cursor = c_to
    if cursor is not None and (end is None or cursor < end):
        out.append((cursor, end))
    return out


def _tier_rows(scope: list[dict[str, object]], tier: str, start: date, end: date | None) -> list[dict[str, object]]:
    """Rows of `tier` copied, over [start, end), from the rows its lookups fell back to (tier null).

    A (tier, speed) lookup without a row of its own falls back to (tier, null), then (null, speed), then the
    standard row; copies are made against the rows as they were, so lookups find the same prices as before.
    """
    covered: dict[tuple[object, object], list[tuple[date, date | None]]] = {}
    for r in scope:
        if r["service_tier"] == tier:
            covered.setdefault((r["model"], r["speed"]), []).append(_range(r))
    out: list[dict[str, object]] = []
    for r in scope:
        inside = _inside(r, start, end) if r["service_tier"] is None else None
        if inside is None:
            continue
        cover = covered.get((r["model"], r["speed"]), [])
        if r["speed"] is not None:
            cover = cover + covered.get((r["model"], None), [])
        for g_from, g_to in _gaps(*inside, cover):
            out.append({**r, "service_tier": tier, "effective_from": g_from, "effective_to": g_to})
    return out


def _discounted(
    row: dict[str, object], start: date, end: date | None, factor: Decimal, tag: str
) -> list[dict[str, object]]:
    """A price row split at [start, end), with every price inside the range multiplied by `factor`."""
    inside = _inside(row, start, end)
    if inside is None:
        return [row]
    cut = {**row, "effective_from": inside[0], "effective_to": inside[1], "price_version": tag}
    for c in (*PRICE_COLUMNS, *TIER_COLUMNS):
        price = cut[c]
        if isinstance(price, Decimal):
            cut[c] = (price * factor).quantize(PRICE_PLACES, ROUND_HALF_EVEN)
    return [*_outside(row, start, end), cut]


def apply_overrides(table: pl.DataFrame, overrides: pl.DataFrame) -> pl.DataFrame:
    """The price table after the overrides: replacements and added models first, then discounts on top."""
    if overrides.height == 0:
        return table
    rows = table.to_dicts()
    for o in overrides.filter(pl.col("uncached_input_mtok").is_not_null()).iter_rows(named=True):
        start, end = o["effective_from"] or EPOCH, o["effective_to"]
        key = (o["provider"], o["model"], o["service_tier"], None)
        rows = [p for r in rows for p in (_outside(r, start, end) if _key(r) == key else [r])]
        rows.append({**{c: o[c] for c in PRICE_TABLE_SCHEMA if c in o}, "speed": None, "effective_from": start})
    for o in overrides.filter(pl.col("discount_pct").is_not_null()).iter_rows(named=True):
        start, end, tier = o["effective_from"] or EPOCH, o["effective_to"], o["service_tier"]
        in_scope = [r["provider"] == o["provider"] and o["model"] in (None, r["model"]) for r in rows]
        if tier is not None:
            added = _tier_rows([r for r, keep in zip(rows, in_scope, strict=True) if keep], tier, start, end)
            rows, in_scope = rows + added, in_scope + [True] * len(added)
        factor = (Decimal(100) - o["discount_pct"]) / Decimal(100)
        rows = [
            p
            for r, scoped in zip(rows, in_scope, strict=True)
            for p in (
                _discounted(r, start, end, factor, o["price_version"])
                if scoped and tier in (None, r["service_tier"])
                else [r]
            )
        ]
    return pl.DataFrame(rows, schema=PRICE_TABLE_SCHEMA).sort(
        "provider", "model", "service_tier", "speed", "effective_from", nulls_last=False
    )


def _key(row: dict[str, object]) -> tuple[object, ...]:
    return row["provider"], row["model"], row["service_tier"], row["speed"]


# --- matching and pricing ----------------------------------------------------------------------------------


def match_models(pairs: Iterable[tuple[str, str]], overrides: pl.DataFrame | None = None) -> pl.DataFrame:
    """Map each distinct (provider, raw model name) to a model id: override patterns first, then the catalog's rules.

    `override_version` names the overrides file when a pattern decided the match. Unknown names map to null
    and are flagged `unpriced` downstream, never priced at $0.
    """
    snapshot = data_snapshot.get_snapshot()
    providers = {p.id: p for p in snapshot.providers}
    rules: list[tuple[str, re.Pattern[str], str, str, str]] = []
    if overrides is not None and overrides.height:
        known = set(price_table().select("provider", "model").unique().iter_rows())
        for o in overrides.filter(pl.col("model").is_not_null()).iter_rows(named=True):
            pattern = o["model_pattern"]
            if pattern is None and (o["provider"], o["model"]) not in known:
                pattern = re.escape(o["model"])
            if pattern is not None:
                rules.append((o["provider"], re.compile(pattern), pattern, o["model"], o["price_version"]))
    out: list[tuple[str, str, str | None, str | None]] = []
    for provider, raw in sorted(set(pairs)):
        rule = next((r for r in rules if r[0] == provider and (raw == r[2] or r[1].fullmatch(raw))), None)
        if rule is not None:
            out.append((provider, raw, rule[3], rule[4]))
            continue
        catalog = providers.get(catalog_providers().get(provider, ""))
        found = catalog.find_model(raw) if catalog is not None else None
        out.append((provider, raw, found.id if found is not None else None, None))
    return pl.DataFrame(out, schema=MODEL_MAP_SCHEMA, orient="row")


def price_usage(rows: pl.DataFrame, overrides: pl.DataFrame | None = None) -> pl.DataFrame:
    """Set `model`, `list_cost_usd`, `price_version` and `pricing_flag` on canonical usage rows.

    Token rows are priced at the list price in force on their `billing_date` for their service tier and speed,
    after `overrides` (`load_overrides`; None = the catalog alone). The long-context tier is chosen per request,
    or for an aggregate from a `context_window` that decides it; otherwise the aggregate is priced at base and
    flagged `base_tier_assumed`. Cost rows (no tokens) pass through untouched. Money stays DECIMAL(38,12).
    """
    pairs = rows.filter(pl.col("model_raw").is_not_null()).select("provider", "model_raw").unique().rows()
    prices = price_table() if overrides is None else apply_overrides(price_table(), overrides)
    con = connect()
    sql = files("transforms").joinpath("sql/price_usage.sql").read_text()
    # registered by name: DuckDB finding a frame by its variable's name costs a third more at a million rows
    con.register("model_map", match_models(pairs, overrides))
    con.register("prices", prices)
    # only what the SQL reads travels to it (joins do not keep row order: _row puts the results back)
    con.register("usage_rows", rows.select(_PRICING_INPUTS).with_row_index("_row"))
    priced = con.sql(sql, params={"per_request_sources": list(per_request_sources())}).pl()
    if priced.height != rows.height:
        raise RuntimeError(f"pricing matched {priced.height} rows for {rows.height}: overlapping price rows")
    results = priced.sort("_row").select(_PRICING_OUTPUTS).cast({c: rows.schema[c] for c in _PRICING_OUTPUTS})
    return rows.with_columns(results.get_columns())


# The columns sql/price_usage.sql reads, and those it sets.
_PRICING_OUTPUTS: tuple[str, ...] = ("model", "list_cost_usd", "price_version", "pricing_flag")
_PRICING_INPUTS: tuple[str, ...] = (
    "billing_date",
    "source",
    "provider",
    "model_raw",
    "context_window",
    "service_tier",
    "speed",
    "uncached_input_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    *_PRICING_OUTPUTS,
)
