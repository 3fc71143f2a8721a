{#
  What each incremental model was last built from, in the state store lake/build_state.duckdb (attached as
  build_state, profiles.yml; table builds, created by ingestion/build_state.py before dbt runs): one row per object
  ('<schema>.<table>') with the fingerprint it was built under, the inputs' watermarks (built_from, JSON), when the
  build finished (built_at) and when it was last built from scratch (whole_build_at). The citizen chain
  (incremental_by_cccd.sql) and the period marts (mart_periods.sql) read "what changed since this model's last build"
  from here:

  - a model is stale when it has no row, its fingerprint differs (its SQL, what it reads besides the rows it
    filters, the silver tables' last rewrite) or an upstream model was rebuilt whole after it was built;
  - a stale model forgets its row before the transaction (forget_stale_build) and its rows inside it
    (forget_stale_rows), so the same incremental SQL, seeing no build, recomputes everything;
  - record_build writes the row after the model's commit: DuckDB writes one attached database per transaction, and a
    row written late only makes the next run recompute more.

      pre_hook=[before_begin("{{ forget_stale_build(fingerprint, [ref('upstream')]) }}"), "{{ forget_stale_rows() }}"],
      post_hook=after_commit("{{ record_build(fingerprint, watermarks={'dossiers': 'select max(...) ...'}) }}")
#}

{% macro build_state_table() -%}
    build_state.builds
{%- endmacro %}

{% macro build_object(relation=none) -%}
    {%- set relation = relation if relation is not none else this -%}
    {{ relation.schema ~ '.' ~ relation.identifier }}
{%- endmacro %}

{# A column of `relation`'s (default: this model's) row in the store, as a scalar subquery (null: never built). #}
{% macro last_build(field, relation=none) -%}
    (select {{ field }} from {{ build_state_table() }} where object = '{{ build_object(relation) }}')
{%- endmacro %}

{# When this model was last built (-infinity: never, or stale). #}
{% macro last_built() -%}
    coalesce({{ last_build('built_at') }}, '-infinity'::timestamptz)
{%- endmacro %}

{# The watermark of input `name` this model's last build included (-infinity: never built, or stale). #}
{% macro input_watermark(name) -%}
    coalesce(cast(json_extract_string({{ last_build('built_from') }}, '$.{{ name }}') as timestamptz),
             '-infinity'::timestamptz)
{%- endmacro %}

{# A value `name` (text) this model's last build recorded in built_from (null: never built, or stale). #}
{% macro built_fact(name) -%}
    json_extract_string({{ last_build('built_from') }}, '$.{{ name }}')
{%- endmacro %}

{# A SQL string expression: this model's checksum plus `reads` (SQL string expressions), hashed. #}
{% macro model_fingerprint(reads=[]) -%}
    md5(concat_ws('|', '{{ model.checksum.checksum }}'{% for read in reads %}, ({{ read }}){% endfor %}))
{%- endmacro %}

{# SQL string expression: this model's SQL, every model and seed upstream of it (SQL, seed files), the last rewrite
   of the silver tables upstream, and `reads` (SQL string expressions), hashed. #}
{% macro upstream_fingerprint(reads=[]) -%}
    {%- set queue = model.depends_on.nodes | list -%}
    {%- set seen = [] -%}
    {%- set silver = [] -%}
    {%- for node_id in queue if node_id not in seen -%}
        {%- do seen.append(node_id) -%}
        {%- if node_id in graph.sources -%}
            {%- do silver.append(graph.sources[node_id].name) -%}
        {%- elif node_id in graph.nodes -%}
            {%- do queue.extend(graph.nodes[node_id].depends_on.nodes | default([])) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set checksums = [] -%}
    {%- for node_id in seen | sort if node_id in graph.nodes -%}
        {%- do checksums.append(node_id ~ '=' ~ graph.nodes[node_id].checksum.checksum) -%}
    {%- endfor -%}
    {{ model_fingerprint(["md5('" ~ checksums | join(',') ~ "')"] + ([silver_rewrites(silver | unique | sort)] if silver else []) + reads) }}
{%- endmacro %}

{# SQL string expression: the last rewrite, delete or update of the silver `tables` (their rows `silver.<table>` in
   the store, recorded by ingestion/warehouse_sources.py: such a commit changes or removes rows without newer ingest
   times). #}
{% macro silver_rewrites(tables) -%}
    (select coalesce(string_agg(concat_ws(':', object, watermark), ',' order by object), '') from {{ build_state_table() }}
     where object in ('silver.{{ tables | join("', 'silver.") }}'))
{%- endmacro %}

{# Before a write to the store outside the model's transaction: end any transaction dbt opened meanwhile (compiling
   the model may run queries; dbt-duckdb's run_hooks issues no commit before or after), so the write commits alone. #}
{% macro end_open_transaction() -%}
    {%- do run_query('select 1') -%}
    {%- do adapter.commit() -%}
{%- endmacro %}

{# Pre-hook before the transaction: drop this model's row when it is stale, so everything after sees no build. #}
{% macro forget_stale_build(fingerprint, upstream=[]) -%}
    {%- if execute and is_incremental() -%}
    {%- do end_open_transaction() -%}
    delete from {{ build_state_table() }}
    where object = '{{ build_object() }}' and (
        fingerprint is distinct from {{ fingerprint }}
        {%- for relation in upstream %}
        or built_at < coalesce({{ last_build('whole_build_at', relation) }}, 'infinity'::timestamptz)
        {%- endfor %}
    )
    {%- endif -%}
{%- endmacro %}

{# Pre-hook in the transaction: empty the table when it has no build to go from (stale, or built before the store). #}
{% macro forget_stale_rows() -%}
    {%- if execute and is_incremental() -%}
    delete from {{ this }} where {{ last_build('built_at') }} is null
    {%- endif -%}
{%- endmacro %}

{# Post-hook after the commit: the fingerprint, the inputs' watermarks (name: SQL scalar, the newest input change
   included), other facts the next run compares (name: SQL scalar) and the build times; whole when the run started
   with no build (first, full refresh, stale). #}
{% macro record_build(fingerprint=none, watermarks={}, facts={}) -%}
    {%- if execute -%}
    {%- do end_open_transaction() -%}
    {%- set iso = "strftime(({sql}) at time zone 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ')" -%}
    {%- set whole = 'true' if not is_incremental() else last_build('built_at') ~ ' is null' -%}
    insert or replace into {{ build_state_table() }}
    select
        '{{ build_object() }}',
        json_object('dbt_invocation', '{{ invocation_id }}'
            {%- for name, sql in watermarks.items() %}, '{{ name }}', {{ iso.format(sql=sql) }}{% endfor %}
            {%- for name, sql in facts.items() %}, '{{ name }}', ({{ sql }})::varchar{% endfor %})::varchar,
        {{ fingerprint if fingerprint else 'null' }},
        {%- set newest = [] -%}
        {%- for sql in watermarks.values() %}{% do newest.append('(' ~ sql ~ ')') %}{% endfor %}
        {{ iso.format(sql='greatest(' ~ newest | join(', ') ~ ')') if newest else 'null' }},
        now(),
        case when {{ whole }} then now() else {{ last_build('whole_build_at') }} end
    {%- endif -%}
{%- endmacro %}
