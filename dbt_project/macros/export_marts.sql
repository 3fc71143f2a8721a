{#
  on-run-end: copy every mart table to <lake>/published/mart=<name>/data_0.parquet (Hive layout, so
  `read_parquet('published/mart=*/*.parquet', hive_partitioning = true)` reads them all), only after a
  `dbt build`/`dbt run` in which nothing errored or failed (warnings are fine): a mart whose tests failed is
  never shared. DuckDB's COPY creates only the last directory level, which the Hive layout fits; the Dagster
  `published` assets stay the path for marts gated by a GX suite.
#}
{% macro export_marts_to_parquet(results) %}
    {% if not execute or flags.WHICH not in ('build', 'run') %}{{ return('') }}{% endif %}
    {% set failed = results | selectattr('status', 'in', ['error', 'fail', 'runtime error']) | list %}
    {% if failed | length > 0 %}
        {{ log('not exporting marts to Parquet: ' ~ failed | length ~ ' node(s) failed', info=true) }}
        {{ return('') }}
    {% endif %}
    {% set out_dir = env_var('TN_LAKE_DIR', '../lake') ~ '/published' %}
    {% set statements = [] %}
    {% for node in graph.nodes.values() if node.resource_type == 'model' and node.schema == 'marts' %}
        {% set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) %}
        {% if relation is not none %}
            {% do statements.append("copy (select *, '" ~ node.alias ~ "' as mart from " ~ relation ~ ") to '"
                ~ out_dir ~ "' (format parquet, partition_by (mart), overwrite_or_ignore true)") %}
        {% endif %}
    {% endfor %}
    {{ log('exporting ' ~ statements | length ~ ' mart(s) to ' ~ out_dir ~ '/mart=<name>/', info=true) }}
    {{ return(statements | join(';\n')) }}
{% endmacro %}
