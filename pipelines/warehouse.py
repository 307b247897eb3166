"""Build and publish the warehouse from the current lake and reference data (no Dagster here)."""

from __future__ import annotations

from pathlib import Path

from pipelines.config import Settings
from pipelines.lake import lake_files
from pipelines.reference import CASE_INSENSITIVE_KINDS, KINDS, reference_frame
from transforms.schema import USAGE_SCHEMA
from warehouse.build import BuildInputs, BuildReport, build, publish


def warehouse_params(benchmark_company: str) -> dict[str, object]:
    """The `$parameters` every warehouse SQL model may use."""
    return {"benchmark_company": benchmark_company, "case_insensitive_kinds": list(CASE_INSENSITIVE_KINDS)}


def build_inputs(settings: Settings | None, lake: list[Path] | None = None) -> BuildInputs:
    """What a build reads: the lake and stored references of `settings`, or nothing (schema-only build)."""
    if settings is None:
        return BuildInputs([], USAGE_SCHEMA, {k: s.to_frame() for k, s in KINDS.items()}, warehouse_params(""))
    return BuildInputs(
        lake_files=lake if lake is not None else lake_files(settings),
        usage_schema=USAGE_SCHEMA,
        references={kind: reference_frame(settings, kind) for kind in KINDS},
        params=warehouse_params(settings.benchmark_company),
    )


def build_and_publish(settings: Settings) -> BuildReport:
    """Build data/_build/warehouse.duckdb, check it ties out to the lake, then publish it with os.replace."""
    build_path = settings.build_dir / settings.warehouse_path.name
    report = build(build_inputs(settings), build_path)
    publish(build_path, settings.warehouse_path)
    return report
