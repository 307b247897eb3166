"""`tokencomp status`: what an operator checks each morning, printed from the manifest, the Dagster instance and
the published warehouse (freshness per source, quarantined files, last runs and failed pulls, attribution,
unpriced models, invoice tie-out)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.table import Table

from pipelines.config import Settings
from pipelines.locks import lock_holder
from pipelines.services.late import late_days
from pipelines.summary import attribution_line
from pipelines.terminal import plain, shown


def print_status(settings: Settings, out: Console) -> None:
    """`tokencomp status`: freshness per source, last runs, unattributed share, unpriced models, quarantined files."""
    from pipelines.services.ingest import manifest_problems, read_manifest, read_quarantine

    manifest = read_manifest(settings)
    table = Table(title=f"Sources ({shown(settings.data_dir)})")
    for col in ("source", "role", "files", "last landed", "data through", "lines rejected"):
        table.add_column(col, no_wrap=True)
    from transforms.sources import source_ids

    for source in source_ids():
        rows = manifest.filter(pl.col("source") == source)
        enabled = source in settings.enabled_sources
        if rows.height == 0:
            table.add_row(source, settings.role_of(source), "0", "never" if enabled else "disabled", "-", "-")
            continue
        table.add_row(
            source,
            settings.role_of(source),
            str(rows.height),
            rows["landed_at"].max().strftime("%Y-%m-%d %H:%M UTC"),  # type: ignore[union-attr]
            str(rows["max_date"].max()),
            str(rows["rejected"].sum()),
        )
    out.print(table)
    qlog = settings.quarantine / "quarantine.jsonl"
    quarantined = read_quarantine(settings).height
    out.print(f"Quarantined files: {quarantined}" + (f" (see {shown(qlog)})" if quarantined else ""))
    outside = int(manifest["outside_partitions"].sum() or 0)
    if outside:
        out.print(
            f"Rows outside the partitions: {outside} (dated before {settings.first_partition_date} or in the "
            "future; kept in raw, in no partition)"
        )
    late = late_days(settings, manifest, datetime.now(UTC).date() - timedelta(days=1))
    if late:
        out.print(
            f"Late days: {len(late)} ({late[0]} … {late[-1]}) got a delivery after their last lake build; "
            "the next nightly run rebuilds them"
        )
    for problem in manifest_problems(settings):
        out.print(plain(f"Warning: {problem}"), markup=False)
    holder = lock_holder(settings.data_dir)
    out.print(f"Data dir lock: {shown(holder.describe()) if holder else 'free'}")
    _print_runs(manifest, out)
    if settings.warehouse_path.exists():
        _print_warehouse_status(settings.warehouse_path, out)
        from pipelines.export_command import invoice_status_lines

        for line in invoice_status_lines(settings):
            out.print(plain(line), markup=False)
    else:
        out.print("Warehouse: not built yet (run `tokencomp run` or `tokencomp demo`)")


def _print_warehouse_status(warehouse: Path, out: Console) -> None:
    import duckdb

    from warehouse.report import query

    try:
        attribution = query(warehouse, "attribution").row(0, named=True)
        unpriced = query(warehouse, "unpriced")
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        out.print(
            f"Warehouse: unreadable or built by an older tokencomp ({shown(first)}); run `tokencomp run` to rebuild"
        )
        return
    out.print(attribution_line(attribution))
    if unpriced.height:
        out.print(
            "Unpriced models (flagged, not priced at $0): "
            + ", ".join(shown(f"{r['provider']}/{r['model']}") for r in unpriced.iter_rows(named=True))
        )
    else:
        out.print("Unpriced models: none")


def _print_runs(manifest: pl.DataFrame, out: Console) -> None:
    from pipelines.instance import free_dead_runs, freed_reason
    from pipelines.runner import check_status, dagster_instance, pull_status, run_failure

    instance = dagster_instance()
    for freed in free_dead_runs(instance):
        out.print(shown(freed.line()))
    runs = instance.get_runs(limit=5)
    if not runs:
        out.print("Last runs: none")
        return
    table = Table(title="Last runs")
    for col in ("run", "job", "status", "window", "failed because"):
        table.add_column(col)
    for run in runs:
        window = (
            f"{run.tags.get('dagster/asset_partition_range_start', '')} … "
            f"{run.tags.get('dagster/asset_partition_range_end', '')}"
        )
        reason = freed_reason(run) or (run_failure(instance, run.run_id) if run.status.value == "FAILURE" else "")
        table.add_row(run.run_id[:8], shown(run.job_name), run.status.value, shown(window), shown(reason))
    out.print(table)
    for line in pull_status(instance, manifest):  # skipped (no key) and failed pulls are warnings
        out.print(plain(line), markup=False)
    for line in check_status(instance):  # the last build's failed blocking checks and WARN checks
        out.print(plain(line), markup=False)
