"""Sharing the warehouse: the shared marts file (pseudonymised, masked, small cells suppressed), the PII scan that
guards it, and the open-data export. Plain functions on DuckDB; the Dagster assets are in
`orchestration/shared_outputs.py`. What is shared is declared in `shared_marts.yaml`."""
