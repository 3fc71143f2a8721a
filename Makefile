# Convenience targets; each is one `uv run` away from the README's commands.
UV ?= python3 -m uv
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: setup run test ui serve sample dbt-docs clean bench

setup:
	python3 -m pip install -q uv && $(UV) sync --frozen

run: setup
	$(UV) run --frozen python -m orchestration.run_pipeline

test: setup
	$(UV) run --frozen pytest

ui: setup
	$(UV) run --frozen python -m orchestration.instance && $(UV) run --frozen dagster dev -w workspace.yaml

# The sharing service on 127.0.0.1:8080 (TN_SERVICE_HOST/TN_SERVICE_PORT); without keys yet it serves open data only.
serve: setup
	$(UV) run --frozen python -m service

sample: setup
	$(UV) run --frozen python -m ingestion.sample_data --scale small

dbt-docs: setup
	TN_LAKE_DIR=$(CURDIR)/lake $(UV) run --frozen python -m ingestion.warehouse_sources && cd dbt_project && TN_LAKE_DIR=$(CURDIR)/lake $(UV) run --frozen dbt docs generate --profiles-dir .

clean:
	rm -rf lake/landing lake/bronze lake/silver lake/quarantine lake/ingestion_log lake/published lake/warehouse.duckdb* .dagster_home
	rm -rf lake/shared_marts.duckdb* lake/open_data lake/build_state.duckdb*

# Province-scale benchmark against the floor (bench/run.py); BENCH_ARGS="--reuse-landing" keeps a generated landing zone.
bench: setup
	$(UV) run --frozen python -m bench.run --scale $(or $(BENCH_SCALE),province) $(BENCH_ARGS)
