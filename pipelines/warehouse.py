"""Build and publish the warehouse from the current lake and reference data (no Dagster here)."""

from __future__ import annotations

from pipelines.config import Settings
from pipelines.lake import lake_files
from pipelines.reference import KINDS, reference_frame
from transforms.schema import USAGE_SCHEMA
from warehouse.build import BuildInputs, BuildReport, build, publish


def build_and_publish(settings: Settings) -> BuildReport:
    """Build data/_build/warehouse.duckdb, check it ties out to the lake, then publish it with os.replace."""
    inputs = BuildInputs(
        lake_files=lake_files(settings),
        usage_schema=USAGE_SCHEMA,
        references={kind: reference_frame(settings, kind) for kind in KINDS},
        params={"benchmark_company": settings.benchmark_company},
    )
    build_path = settings.build_dir / settings.warehouse_path.name
    report = build(inputs, build_path)
    publish(build_path, settings.warehouse_path)
    return report
