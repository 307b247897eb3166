"""Loading salary data (`tokencomp reference load salaries PATH`) and the band settings a build needs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.config import BandSettings, Settings
from pipelines.services.reference import VENDOR_KIND
from pipelines.services.storage import replace_parquet
from transforms.salaries import (
    REJECTED_SCHEMA,
    SUBMISSIONS_SCHEMA,
    VENDOR_SCHEMA,
    SalaryFileError,
    read_salary_file,
    unify_companies,
    unmapped_levels,
)
from transforms.salary_names import company_key, level_ranks

SUBMISSIONS_KIND = "salaries"

SALARY_SUFFIXES = (".csv", ".json")


@dataclass(frozen=True)
class SalaryLoad:
    """What one salary load did: rows read, loaded and rejected (each with file, line, field), unmapped levels."""

    rows_read: int
    submissions: int
    vendor_bands: int
    rejected: pl.DataFrame
    unmapped: pl.DataFrame

    @property
    def loaded(self) -> int:
        """Rows stored (submissions plus vendor band rows)."""
        return self.submissions + self.vendor_bands

    def lines(self, shown_rejections: int = 20) -> list[str]:
        """The load's report for a person: counts first, then each rejected row and the unmapped levels."""
        out = [
            f"salaries: {self.rows_read} rows read, {self.loaded} loaded ({self.submissions} submissions, "
            f"{self.vendor_bands} vendor band rows), {self.rejected.height} rejected, "
            f"{int(self.unmapped['rows'].sum())} with an unmapped level ({self.unmapped.height} distinct)"
        ]
        for r in self.rejected.head(shown_rejections).iter_rows(named=True):
            value = "" if r["value"] is None else f": {r['value']!r}"
            out.append(f"rejected {r['file']}:{r['line']}: field {r['field']!r}: {r['problem']}{value}")
        if self.rejected.height > shown_rejections:
            out.append(f"... and {self.rejected.height - shown_rejections} more rejected rows")
        for r in self.unmapped.head(10).iter_rows(named=True):
            out.append(f"unmapped level {r['company']} {r['level']!r}: {r['rows']} rows (kept as written)")
        return out


def salary_files(paths: list[Path]) -> list[Path]:
    """The salary files named: files as given, folders searched for CSV and JSON files."""
    out: list[Path] = []
    for p in paths:
        if not p.exists():
            raise SalaryFileError(f"{p}: no such file or directory")
        out.extend(sorted(f for f in p.rglob("*") if f.suffix.lower() in SALARY_SUFFIXES) if p.is_dir() else [p])
    return out


def load_salaries(settings: Settings, paths: list[Path]) -> SalaryLoad:
    """Replace the stored salary data with the files of `paths` (every file read before anything is written)."""
    files = salary_files(paths)
    if not files:
        raise SalaryFileError(f"no CSV or JSON salary files in {', '.join(map(str, paths))}")
    read = [read_salary_file(f) for f in files]
    submissions = pl.concat([r.submissions for r in read])
    vendor = pl.concat([r.vendor for r in read])
    both = unify_companies(
        pl.concat([submissions.select("company_key", "company"), vendor.select("company_key", "company")])
    )
    shown = both.unique("company_key").select("company_key", pl.col("company").alias("_shown"))
    submissions, vendor = (
        f.join(shown, on="company_key", how="left", maintain_order="left")
        .with_columns(pl.col("_shown").alias("company"))
        .drop("_shown")
        for f in (submissions, vendor)
    )
    replace_parquet(submissions.select(SUBMISSIONS_SCHEMA.names()), settings.reference / f"{SUBMISSIONS_KIND}.parquet")
    replace_parquet(vendor.select(VENDOR_SCHEMA.names()), settings.reference / f"{VENDOR_KIND}.parquet")
    rejected = pl.concat([r.rejected for r in read]) if read else REJECTED_SCHEMA.to_frame()
    return SalaryLoad(
        rows_read=sum(r.rows_read for r in read),
        submissions=submissions.height,
        vendor_bands=vendor.height,
        rejected=rejected,
        unmapped=unmapped_levels(submissions, vendor),
    )


def band_params(benchmark_company: str, bands: BandSettings) -> dict[str, object]:
    """The `$parameters` of the band models: companies as matching keys, the config maps as lists of pairs,
    the packaged level equivalences, and the wage-growth index (empty unless enabled)."""
    ranks = level_ranks()
    return {
        "benchmark_company_key": company_key(benchmark_company) if benchmark_company else "",
        "band_min_n": bands.min_n,
        "band_peers": [{"company_key": company_key(p), "priority": i} for i, p in enumerate(bands.peers, start=1)],
        "band_level_map": [[k, v] for k, v in sorted(bands.level_map.items())],
        "band_location_map": [[k, v] for k, v in sorted(bands.location_map.items())],
        "band_title_map": [[k, v] for k, v in sorted(bands.title_map.items())],
        "band_level_ranks": ranks.to_dicts(),
        "wage_index": [{"year": y, "index": v} for y, v in sorted(bands.wage_index.items())]
        if bands.wage_growth
        else [],
    }
