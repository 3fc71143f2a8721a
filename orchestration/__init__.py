"""Dagster definitions for the warehouse: ingestion assets, dbt models, GX gates, jobs."""
