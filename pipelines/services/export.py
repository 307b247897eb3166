"""`tokencomp export`: write one report of one month to `--out`, and keep a versioned snapshot of it.

Every export also lands under `<data dir>/exports/<YYYY-MM>/v<N>/` (`v<N>-provisional` while the month is not
closed) with a `manifest.json`: the sha256 of each file, the warehouse build it came from (file sha256 and build
time) and provisional/closed. Versions follow the data, not the clock: a report whose data (every row and column,
status included) equals what the latest version holds adds its file to that version, or changes nothing if the
file is there already; different data, or a month that became closed, starts a new version with
`<report>.diff.csv`, the cells that changed against the previous version's `<report>.parquet` (each version keeps
a report's Parquet data, the copy diffs are taken from). Nothing is ever overwritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl

from pipelines.config import Settings
from pipelines.services.warehouse import closed_months
from transforms.money import install_money_macros
from warehouse.build import sql_text
from warehouse.exports import MONEY_SUFFIX, ExportError, Report, Section, report, section_frame, sources_frame
from warehouse.exports.files import neutralize, write_csv, write_parquet
from warehouse.exports.xlsx import Cover, write_xlsx
from warehouse.families import register_model_families

Progress = Callable[[str, int, int], None]
_VERSION = re.compile(r"^v(\d+)(-provisional)?$")


@dataclass(frozen=True)
class ExportResult:
    """What one export wrote: the files at `--out`, the snapshot version they landed in, and what changed."""

    report: str
    month: date
    fmt: str
    status: str
    files: list[Path]
    snapshot: Path
    version: int
    outcome: str  # "new version", "added to version", "unchanged"
    diff: str
    totals: dict[str, Decimal]

    def line(self) -> str:
        """One line for the terminal."""
        where = ", ".join(str(p) for p in self.files)
        return (
            f"{self.report} {self.month:%Y-%m} ({self.status}) -> {where}; snapshot {self.snapshot} "
            f"({self.outcome}{'; ' + self.diff if self.diff else ''})"
        )


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _data_digest(frames: list[pl.DataFrame]) -> str:
    """A digest of a report's data (every value, types included), independent of the file format."""
    digest = hashlib.sha256()
    for frame in frames:
        digest.update(str(frame.schema).encode())
        digest.update(frame.write_csv().encode())
    return digest.hexdigest()


def _totals(frame: pl.DataFrame) -> dict[str, Decimal]:
    """Each money column's total (None for a column with no amount at all)."""
    return {
        c: frame[c].sum() if frame[c].null_count() < frame.height else None
        for c in frame.columns
        if c.endswith(MONEY_SUFFIX)
    }


def _check_month(con: duckdb.DuckDBPyConnection, month: date) -> None:
    spend_rows, billed_rows, first, last = con.sql(sql_text("exports/month_rows"), params={"month": month}).fetchall()[
        0
    ]
    if not spend_rows and not billed_rows:
        held = f"it holds {first:%Y-%m-%d} … {last:%Y-%m-%d}" if first else "it holds no spend yet"
        raise ExportError(f"the warehouse has no data for {month:%Y-%m} ({held})")


def _metadata(rep: Report, month: date, status: str, built_at: datetime) -> dict[str, str]:
    return {"report": rep.name, "month": f"{month:%Y-%m}", "status": status, "warehouse_built_at": built_at.isoformat()}


def _render(
    con: duckdb.DuckDBPyConnection,
    rep: Report,
    fmt: str,
    month: date,
    status: str,
    settings: Settings,
    scratch: Path,
    progress: Progress,
    built_at: datetime,
) -> tuple[list[Path], Path | None, list[pl.DataFrame]]:
    """Write the export into `scratch`: (files, canonical Parquet or None, the data frames)."""
    name = rep.name
    if rep.write_files is not None:
        target = scratch / (name if fmt == "png" else f"{name}.{fmt}")
        files = rep.write_files(con, month, fmt, target)
        return sorted(files), None, []
    sections: list[tuple[Section, pl.DataFrame]] = []
    if rep.frame is not None:
        sections.append((Section(name, name, name), rep.frame(con, month)))
    for i, section in enumerate(rep.sections, start=1):
        progress(f"export {name}: query", i, len(rep.sections) + 1)
        sections.append((section, section_frame(con, section, month, status, settings.invoice_tolerance_usd)))
    progress(f"export {name}: query", len(rep.sections) + 1, len(rep.sections) + 1)
    data = sections[0][1]
    canonical = scratch / f"{name}.parquet"
    meta = _metadata(rep, month, status, built_at)
    meta.pop("warehouse_built_at")  # Parquet bytes follow the data alone; the build is in the manifest
    write_parquet(data, canonical, meta)
    target = scratch / f"{name}.{fmt}"
    if fmt == "csv":
        write_csv(data, target)
    elif fmt == "xlsx":
        write_xlsx(sections, _cover(con, rep, month, status, built_at, settings, sections), target)
    return [target], canonical, [frame for _, frame in sections]


def _cover(
    con: duckdb.DuckDBPyConnection,
    rep: Report,
    month: date,
    status: str,
    built_at: datetime,
    settings: Settings,
    sections: list[tuple[Section, pl.DataFrame]],
) -> Cover:
    lines = [
        (
            "Warehouse tie-out",
            "passed: billed = allocated + unallocated per provider, scope and day, and the marts sum to "
            "core.fct_spend (blocking checks: a warehouse that fails them is never published)",
        )
    ]
    for section, frame in sections:
        totals = ", ".join(f"{c} {v:,.2f}" for c, v in _totals(frame).items() if v is not None)
        if totals:
            lines.append((f"Totals: {section.name}", f"{totals} (each the warehouse total, rounded once)"))
    invoices = next((f for s, f in sections if s.sql == "invoices"), None)
    if invoices is None:
        invoices = section_frame(
            con, Section("invoices", "", "invoices"), month, status, settings.invoice_tolerance_usd
        )
    lines.extend(invoice_cover_lines(invoices, settings.invoice_tolerance_usd))
    return Cover(
        rep.name,
        rep.description,
        month,
        status,
        built_at,
        f"{settings.warehouse_path.name}, sha256 {_sha256(settings.warehouse_path)}",
        sources_frame(con, month),
        lines,
    )


def invoice_cover_lines(invoices: pl.DataFrame, tolerance: Decimal) -> list[tuple[str, str]]:
    """The invoice tie-out as (label, text) lines: one per provider; a gap above the tolerance says WARN."""
    if not invoices.filter(pl.col("tie_out") != "no_invoice").height:
        return [("Invoice tie-out", "no invoice loaded for the month (tokencomp reference load invoices)")]
    lines = []
    for r in invoices.iter_rows(named=True):  # one row per provider
        if r["tie_out"] == "no_invoice":
            text = f"no invoice loaded; billed {r['billed_usd']:,.2f}"
        else:
            text = (
                f"{'WARN: gap above tolerance ' + format(tolerance, ',.2f') + '; ' if r['tie_out'] == 'gap' else ''}"
                f"{r['tie_out']}: invoice {r['invoice_ids']} {r['invoice_usd']:,.2f}, billed {r['billed_usd']:,.2f}, "
                f"difference {r['difference_usd']:,.2f} ({r['cause']})"
            )
        lines.append((f"Invoice tie-out: {r['provider']}", text))
    return lines


def _versions(folder: Path) -> list[tuple[int, Path]]:
    found = []
    for p in folder.glob("v*"):
        match = _VERSION.match(p.name)
        if match and (p / "manifest.json").exists():
            found.append((int(match.group(1)), p))
    return sorted(found)


def _read_manifest(folder: Path) -> dict[str, object]:
    return json.loads((folder / "manifest.json").read_text())  # type: ignore[no-any-return]


def _write_atomically(data: bytes, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def _copy(source: Path, target: Path) -> None:
    """Copy a file or a folder of files (PNG charts) into place, replacing it whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        target.mkdir(exist_ok=True)
        for f in sorted(source.iterdir()):
            _copy(f, target / f.name)
        return
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def diff_frames(old: pl.DataFrame, new: pl.DataFrame, keys: tuple[str, ...] = ()) -> pl.DataFrame:
    """The cells that changed between two versions of a report: `change` (added, removed, changed), the row's
    `keys` (default: its text and date columns), `column`, `before` and `after` (as text) and, for numbers,
    `delta`."""
    keys = keys or tuple(c for c, t in new.schema.items() if c != "status" and t in (pl.String, pl.Date))
    values = [c for c in new.columns if c not in keys and c != "status" and c in old.columns]
    joined = old.with_columns(pl.lit(True).alias("_in_before")).join(
        new.with_columns(pl.lit(True).alias("_in_after")),
        on=list(keys),
        how="full",
        coalesce=True,
        nulls_equal=True,
        suffix="_after",
    )
    change = (
        pl.when(pl.col("_in_before").is_null())
        .then(pl.lit("added"))
        .when(pl.col("_in_after").is_null())
        .then(pl.lit("removed"))
        .otherwise(pl.lit("changed"))
    )
    parts = []
    for column in values:  # one part per column of the report (a handful), each a vectorized filter
        before, after = pl.col(column), pl.col(f"{column}_after")
        numeric = new.schema[column].is_numeric()
        delta = (after.fill_null(0) - before.fill_null(0)).cast(pl.Decimal(38, 6)) if numeric else pl.lit(None)
        parts.append(
            joined.filter(before.ne_missing(after)).select(
                change.alias("change"),
                *keys,
                pl.lit(column).alias("column"),
                before.cast(pl.String).alias("before"),
                after.cast(pl.String).alias("after"),
                delta.cast(pl.Decimal(38, 6)).alias("delta"),
            )
        )
    schema = {"change": pl.String, **{k: new.schema[k] for k in keys}, "column": pl.String}
    empty = pl.DataFrame(schema={**schema, "before": pl.String, "after": pl.String, "delta": pl.Decimal(38, 6)})
    return pl.concat([empty, *parts]).sort(["column", *keys], nulls_last=True)


def _diff_note(diff: pl.DataFrame, previous: int) -> str:
    if diff.height == 0:
        return f"no figure changed since v{previous}"
    money = diff.filter(pl.col("column").str.ends_with(MONEY_SUFFIX)).group_by("column").agg(pl.col("delta").sum())
    moved = ", ".join(f"{r['column']} {r['delta']:+,.2f}" for r in money.sort("column").iter_rows(named=True))
    return f"{diff.height} cell(s) changed since v{previous}" + (f": {moved}" if moved else "")


def _snapshot(
    settings: Settings,
    rep: Report,
    month: date,
    status: str,
    written: list[Path],
    canonical: Path | None,
    data_sha: str,
    warehouse: dict[str, str],
    rows: int,
    totals: dict[str, Decimal],
) -> tuple[Path, int, str, str]:
    """Land the files in the month's snapshot; return (version folder, version, outcome, diff note)."""
    folder = settings.data_dir / "exports" / f"{month:%Y-%m}"
    versions = _versions(folder)
    latest = versions[-1] if versions else None
    manifest = _read_manifest(latest[1]) if latest else None
    reports: dict[str, dict[str, object]] = manifest["reports"] if manifest else {}  # type: ignore[assignment]
    entry = reports.get(rep.name)
    same = manifest is not None and manifest["status"] == status and (entry is None or entry["data_sha256"] == data_sha)
    names = [p.name for p in written] + ([canonical.name] if canonical and canonical not in written else [])
    note = ""
    if same and latest is not None and manifest is not None:
        number, target = latest
        files: dict[str, dict[str, object]] = manifest["files"]  # type: ignore[assignment]
        missing = [n for n in names if n not in files]
        if not missing and entry is not None:
            return target, number, "unchanged", ""
        outcome = "added to version"
    else:
        number = (latest[0] if latest else 0) + 1
        target = folder / (f"v{number}" + ("-provisional" if status != "closed" else ""))
        manifest = {"month": f"{month:%Y-%m}", "version": number, "status": status, "reports": {}, "files": {}}
        files = manifest["files"]  # type: ignore[assignment]
        missing = names
        outcome = "new version"
        previous = next(
            (v for v in reversed(versions) if rep.name in _read_manifest(v[1])["reports"]),  # type: ignore[operator]
            None,
        )
        if previous is not None and canonical is not None and (previous[1] / canonical.name).exists():
            keys = rep.sections[0].keys if rep.sections else ()
            diff = diff_frames(pl.read_parquet(previous[1] / canonical.name), pl.read_parquet(canonical), keys)
            target.mkdir(parents=True, exist_ok=True)
            diff_path = target / f"{rep.name}.diff.csv"
            neutralize(diff).write_csv(diff_path, quote_style="non_numeric")
            files[diff_path.name] = {"report": rep.name, "format": "diff", "sha256": _sha256(diff_path)}
            note = _diff_note(diff, previous[0])
    target.mkdir(parents=True, exist_ok=True)
    sources = {p.name: p for p in written} | ({canonical.name: canonical} if canonical else {})
    for name in missing:
        _copy(sources[name], target / name)
        for f in sorted((target / name).rglob("*")) if (target / name).is_dir() else [target / name]:
            fmt = f.suffix.lstrip(".")
            files[f.relative_to(target).as_posix()] = {"report": rep.name, "format": fmt, "sha256": _sha256(f)}
    reports = manifest["reports"]  # type: ignore[assignment]
    reports[rep.name] = {
        "data_sha256": data_sha,
        "rows": rows,
        "totals_usd": {k: str(v) for k, v in totals.items()},
        "warehouse": warehouse,
        **({"diff": note} if note else {}),
    }
    _write_atomically((json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode(), target / "manifest.json")
    return target, number, outcome, note


def export(
    settings: Settings, name: str, month: date, fmt: str, out: Path | None, progress: Progress | None = None
) -> ExportResult:
    """Write report `name` of `month` in `fmt` to `out` (exactly that path; parents created; None: the snapshot
    only), and land it in the month's versioned snapshot."""
    rep = report(name)
    if fmt not in rep.formats:
        raise ExportError(f"report {name!r} is written as {', '.join(rep.formats)}, not {fmt}")
    if out is not None and out.is_dir() and fmt != "png":
        raise ExportError(f"--out {out} is a folder; give the file to write, e.g. {out / f'{name}.{fmt}'}")
    if not settings.warehouse_path.exists():
        raise ExportError("no warehouse yet: run `tokencomp run` (or `tokencomp demo`) first")
    tick = progress or (lambda step, done, total: None)
    status = "closed" if month in closed_months(settings) else "provisional"
    built_at = datetime.fromtimestamp(settings.warehouse_path.stat().st_mtime, UTC).replace(microsecond=0)
    scratch_root = settings.data_dir / "_tmp"
    scratch_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch_root, prefix="export-") as tmp:
        scratch = Path(tmp)
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            install_money_macros(con)
            register_model_families(con)
            _check_month(con, month)
            written, canonical, frames = _render(con, rep, fmt, month, status, settings, scratch, tick, built_at)
        tick(f"export {name}: write {fmt}", 1, 2)
        files: list[Path] = []
        if out is not None:
            target = out.resolve()
            _copy(written[0] if fmt != "png" else written[0].parent, target)
            files = [target / p.name for p in written] if fmt == "png" else [target]
        data_sha = (
            _data_digest(frames) if frames else hashlib.sha256(b"".join(p.read_bytes() for p in written)).hexdigest()
        )
        warehouse = {
            "file": str(settings.warehouse_path),
            "sha256": _sha256(settings.warehouse_path),
            "built_at": built_at.isoformat(),
        }
        totals = _totals(frames[0]) if frames else {}
        folder, version, outcome, note = _snapshot(
            settings,
            rep,
            month,
            status,
            written,
            canonical,
            data_sha,
            warehouse,
            frames[0].height if frames else 0,
            totals,
        )
        tick(f"export {name}: write {fmt}", 2, 2)
    if out is None:
        files = [folder / p.name for p in written]
    return ExportResult(name, month, fmt, status, files, folder, version, outcome, note, totals)
