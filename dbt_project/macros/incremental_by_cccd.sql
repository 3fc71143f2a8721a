{#
  The citizen chain (int_citizen_source_records → int_citizen_survivorship → dim_citizen → dim_citizen_conflicts,
  and the snap_citizen snapshot) is incremental on the CCCD: a nightly run recomputes only the citizens whose inputs
  changed (one day of dossiers and visits touches ~3 % of them) and replaces their rows (delete+insert on cccd).
  Three rules keep it equal to a full build:

  - Each row carries built_at (the dbt invocation that wrote it), and the state store records when each model was
    last built and under which fingerprint (macros/build_state.sql). A model recomputes the CCCDs whose upstream rows
    were built after that; int_citizen_source_records instead compares each department's silver _ingested_at with
    the newest it holds from that department (sources load independently, so one held back by a failing gate still
    counts from its own rows).
  - The fingerprint is the model's SQL checksum plus what it reads besides the rows it filters (ranks, commune-code
    map, facilities, the silver tables' last rewrite). When it differs, the pre-hooks forget the build and empty the
    table, so the same incremental SQL, having seen nothing, recomputes everything: a changed model, rank or
    reference table needs no manual --full-refresh.
  - When the upstream model was rebuilt whole after this one was last built, this one is rebuilt whole too, so a
    CCCD that vanished upstream does not linger here.

      {{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='cccd',
                on_schema_change='sync_all_columns',
                pre_hook=[before_begin("{{ forget_stale_build(some_fingerprint(), [ref('upstream')]) }}"),
                          "{{ forget_stale_rows() }}"],
                post_hook=after_commit("{{ record_build(some_fingerprint()) }}")) }}
#}

{# The dbt invocation's start (UTC), stamped on every row it writes. #}
{% macro build_time() -%}
    '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f+00") }}'::timestamptz
{%- endmacro %}

{# Rows of `relation` built after this model was last built (all rows on a first or whole rebuild). #}
{% macro built_since_this(relation) -%}
    select cccd from {{ relation }} where built_at > {{ last_built() }}
{%- endmacro %}

{# Pre-hook of a model that keeps rows for some CCCDs only (conflicts): delete the rows of the citizens rebuilt in
   `relations` since this model was built, since their new rows may be none. #}
{% macro forget_rebuilt_citizens(relations) -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where cccd in (
    {%- for relation in relations %}
        {{ built_since_this(relation) }}{% if not loop.last %} union{% endif %}
    {%- endfor %}
    )
    {%- endif -%}
{%- endmacro %}

{# int_citizen_source_records: the newest silver row this table holds from a department (none in a table built
   before the chain was incremental: it has no ingested_at column until this run adds it). #}
{% macro seen_from(department) -%}
    {%- if 'ingested_at' in adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
    (select coalesce(max(ingested_at), '-infinity'::timestamptz) from {{ this }} where source = '{{ department }}')
    {%- else -%}
    '-infinity'::timestamptz
    {%- endif -%}
{%- endmacro %}

{# On an incremental run, keep the rows of the CCCDs in the model's `changed` CTE only. #}
{% macro only_changed(cccd_column, keyword='where') -%}
    {%- if is_incremental() %}{{ keyword }} {{ cccd_column }} in (select cccd from changed){% endif -%}
{%- endmacro %}

{# int_citizen_source_records reads, besides the rows it filters: the ranks, the commune-code map (through the
   int_<source> views), the health facilities, and the silver tables' last rewrite (their rows in the state store, from
   ingestion/warehouse_sources.py: a contract change rewrites silver with the old ingest times, an erasure deletes rows
   without any newer one). #}
{% macro citizen_records_fingerprint() -%}
    {{ model_fingerprint([
        "'" ~ citizen_sources() | join(',') ~ "'",
        "select md5(coalesce(string_agg(concat_ws(':', commune_code, current_commune_code, resolution), ',' "
            ~ "order by commune_code), '')) from " ~ ref('int_commune_code_map'),
        "select md5(coalesce(string_agg(concat_ws(':', facility_code, facility_type, current_commune_code), ',' "
            ~ "order by facility_code), '')) from " ~ ref('int_health_facilities'),
        silver_rewrites(['citizens', 'social_insurance', 'dossiers', 'health_visits', 'health_facilities']),
    ]) }}
{%- endmacro %}


{#- In `dbt build` (every refresh), the citizen chain's tests check what the run wrote, as the GX gates check the batch
    (issue 17, decision 1): the rows of the citizens it wrote a row for, old rows included, so a unique key is checked
    against what the table already held for them. A full build writes every row, so it tests every row; `dbt test`
    (by hand, and the weekly whole_table_validation job) tests every row. Generic tests ask for it with
    `where: "cccd in __citizens_built_this_run__"` (tag batch_scoped) through dbt's documented get_where_subquery
    override; a singular test selects from citizens_written_this_run(ref(...)). -#}
{% macro citizens_written_this_run(relation) -%}
    {%- if flags.WHICH == 'build' -%}
        (select * from {{ relation }} where cccd in {{ citizens_built_this_run(relation) }}) citizens_written_this_run
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}

{% macro citizens_built_this_run(relation) -%}
    (select cccd from {{ relation }} where built_at = {{ build_time() }})
{%- endmacro %}

{% macro duckdb__get_where_subquery(relation) -%}
    {%- set where = config.get('where') or '' -%}
    {%- if '__citizens_built_this_run__' in where -%}
        {%- if flags.WHICH != 'build' -%}
            {%- do return(relation) -%}
        {%- endif -%}
        {%- set where = where | replace('__citizens_built_this_run__', citizens_built_this_run(relation)) -%}
    {%- endif -%}
    {%- if where -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}
