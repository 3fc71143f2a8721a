#!/bin/sh
# The dbt that Dagster runs (DbtCliResource.dbt_executable). dagster-dbt asks `dbt --version` before every
# invocation, and dbt answers it by importing itself and asking PyPI for its latest release: seconds a refresh, and
# a request to the internet the warehouse does not need. The installed dbt-core's version answers it instead.
if [ "$#" -eq 1 ] && [ "$1" = "--version" ]; then
    exec python3 -c 'from importlib.metadata import version; print("Core:\n  - installed: " + version("dbt-core"))'
fi
exec dbt "$@"
