"""Dagster definitions for tokencomp: assets by layer (ingest → lake → warehouse), checks, job, schedule."""

import warnings

import dagster as dg

# BackfillPolicy is marked beta; we rely on it for single-run backfills and pin Dagster exactly.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
