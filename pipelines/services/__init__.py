"""The Dagster-free work behind the assets: ingest (landing → raw), lake (raw → canonical Parquet), reference
data, the warehouse build and publish, month close, and the JSONL logs they keep. `pipelines/defs/` wires them
into Dagster definitions; the CLI calls them directly where no orchestration is needed."""
