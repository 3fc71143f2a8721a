"""The dbt project Dagster runs, and its manifest prepared the documented way.

`dagster dev` prepares the manifest when it loads the code location (`prepare_if_dev`); everything else (the
`run_pipeline` CLI, the tests, the bench, a deployment's build step) calls `prepare_manifest()` or runs
`PYTHONPATH=. dagster-dbt project prepare-and-package --file orchestration/dbt_project.py` before loading the
definitions.
"""

from dagster_dbt import DbtCliResource, DbtProject

from ingestion.lake import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DBT_EXECUTABLE = PROJECT_ROOT / "orchestration" / "dbt_executable.sh"  # dbt, with `--version` answered offline
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()


def dbt_resource() -> DbtCliResource:
    """The `dbt` resource every job uses."""
    return DbtCliResource(project_dir=dbt_project, dbt_executable=str(DBT_EXECUTABLE))


def prepare_manifest() -> None:
    """Parse the dbt project into target/manifest.json, which the dbt assets are built from."""
    dbt_project.preparer.prepare(dbt_project)


if __name__ == "__main__":
    prepare_manifest()
