"""Ingest layer: landing/<source>/ → raw/ (by sha256, with manifest) or quarantine/, and reference data."""

import dagster as dg

from pipelines.clients import pullable
from pipelines.defs.resources import TokencompResource
from pipelines.progress import report_progress
from pipelines.services.ingest import sweep_landing
from pipelines.services.reference import KINDS, load_reference
from transforms.sources import source_ids


def raw_asset(source: str) -> dg.AssetsDefinition:
    """Build the asset that sweeps one source's landing folder into raw/."""

    @dg.asset(
        key=["raw", source],
        group_name="raw",
        kinds={"python", "file"},
        owners=["team:data-platform"],
        tags={"source": source},
        # lineage only: a pull lands its pages in raw/ itself, in the `pull` job that runs before this one
        deps=[dg.AssetKey(["pull", source])] if source in pullable() else [],
        description=(
            f"Accepted {source} deliveries: every file dropped in landing/{source}/ is validated by its parser and "
            "kept byte for byte in raw/ (named by sha256, listed in the manifest) or quarantined with a reason."
        ),
    )
    def _raw(context: dg.AssetExecutionContext, tokencomp: TokencompResource) -> dg.MaterializeResult:
        settings = tokencomp.settings()
        if source not in settings.enabled_sources:
            context.log.warning(f"{source} is not in pipeline.enabled_sources; skipped")
            return dg.MaterializeResult(metadata={"skipped": True})
        step = f"ingest {source}"
        waiting = settings.landing / source
        files = sum(1 for p in waiting.rglob("*") if p.is_file()) if waiting.is_dir() else 0
        report_progress(context.log, step, 0, files, "files")
        outcomes = sweep_landing(settings, source, landed_at=tokencomp.landed_at_time())
        counts = {
            status: sum(o.status == status for o in outcomes) for status in ("landed", "duplicate", "quarantined")
        }
        lines = sum(o.loaded for o in outcomes)
        note = ", ".join(f"{n:,} {k}" for k, n in counts.items() if n) + (f"; {lines:,} lines loaded" if lines else "")
        report_progress(context.log, step, len(outcomes), len(outcomes), "files", note)
        for o in outcomes:
            if o.status == "quarantined" or o.outside_partitions:
                context.log.warning(o.line())
        return dg.MaterializeResult(
            metadata={
                **{f"files_{k}": v for k, v in counts.items()},
                "lines_parsed": sum(o.parsed for o in outcomes),
                "lines_loaded": sum(o.loaded for o in outcomes),
                "lines_rejected": sum(o.rejected for o in outcomes),
                "rows_outside_partitions": sum(o.outside_partitions for o in outcomes),
            }
        )

    return _raw


@dg.asset(
    key=["reference", "files"],
    group_name="reference",
    kinds={"python", "parquet"},
    owners=["team:data-platform"],
    description=(
        "Roster, aliases, route members, scopes and salary submissions: CSVs dropped in landing/<kind>/ are "
        "validated and stored in reference/ (who is who, who shares which key, which workspace is whose, and what "
        "the market pays)."
    ),
)
def reference_files(context: dg.AssetExecutionContext, tokencomp: TokencompResource) -> dg.MaterializeResult:
    """Load each reference kind found in landing/ into reference/, then clear it from the inbox.

    Clearing matters: otherwise a stale file in landing/ would overwrite a later `tokencomp reference load`.
    """
    settings = tokencomp.settings()
    loaded: dict[str, int] = {}
    for kind in KINDS:
        folder = settings.landing / kind
        files = sorted(folder.rglob("*.csv")) if folder.is_dir() else []
        if files:
            loaded[kind] = load_reference(settings, kind, [folder])
            for f in files:
                f.unlink()
            context.log.info(f"reference {kind}: {loaded[kind]} rows")
    if loaded:
        note = ", ".join(f"{kind} {rows:,} rows" for kind, rows in loaded.items())
        report_progress(context.log, "reference/files", len(loaded), len(loaded), "kinds", note)
    return dg.MaterializeResult(metadata={f"{k}_rows": v for k, v in loaded.items()})


RAW_ASSETS = [raw_asset(source) for source in source_ids()]
