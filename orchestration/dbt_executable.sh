#!/bin/sh
# The dbt that Dagster runs (DbtCliResource.dbt_executable). dagster-dbt asks `dbt --version` before every
# invocation, and dbt answers it by importing itself and asking PyPI for its latest release: seconds a refresh, and
# a request to the internet the warehouse does not need. The installed dbt-core's version answers it instead.
dbt="$(command -v dbt)" || {
    echo "dbt_executable.sh: no dbt on PATH; run the pipeline through 'uv run' (or put .venv/bin on PATH)" >&2
    exit 127
}
if [ "$#" -eq 1 ] && [ "$1" = "--version" ]; then
    # the Python of the environment the dbt on PATH belongs to, whatever `python3` means first on PATH
    exec "$(dirname "$dbt")/python" -c \
        'from importlib.metadata import version; print("Core:\n  - installed: " + version("dbt-core"))'
fi
exec "$dbt" "$@"
