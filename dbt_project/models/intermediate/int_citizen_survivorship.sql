-- One row per CCCD seen by any department, each attribute taken from the best-ranked department that has it
-- (population registry first), with the department it came from. Feeds dim_citizen and the SCD2 snapshot.
-- Incremental on the CCCD (macros/incremental_by_cccd.sql): recomputes the citizens whose source records changed.
-- built_at: when the citizen's row last changed. A recomputed citizen whose values came out the same keeps it, so
-- dim_citizen, the snapshot, the shared file and its PII scan see only the citizens that really changed (a day of
-- dossiers recomputes ~40 k applicants, few of whom change).
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='cccd',
    on_schema_change='sync_all_columns',
    pre_hook=[
        before_begin("{{ forget_stale_build(model_fingerprint(), [ref('int_citizen_source_records')]) }}"),
        "{{ forget_stale_rows() }}",
    ],
    post_hook=after_commit("{{ record_build(model_fingerprint()) }}"),
) }}
with records as (
    select * from {{ ref('int_citizen_source_records') }}
    {% if is_incremental() -%}
    where cccd in ({{ built_since_this(ref('int_citizen_source_records')) }})
    {%- endif %}
),

citizens as (
    select
        cccd,
        arg_min(full_name, source_rank) filter (where full_name is not null) as full_name,
        arg_min(source, source_rank) filter (where full_name is not null) as full_name_source,
        arg_min(date_of_birth, source_rank) filter (where date_of_birth is not null) as date_of_birth,
        arg_min(sex, source_rank) filter (where sex is not null) as sex,
        arg_min(current_commune_code, source_rank) filter (where current_commune_code is not null)
            as current_commune_code,
        arg_min(source, source_rank) filter (where current_commune_code is not null) as commune_source,
        arg_min(phone, source_rank) filter (where phone is not null) as phone,
        arg_min(source, source_rank) filter (where phone is not null) as phone_source,
        bool_or(source = 'population_registry') as in_population_registry,
        -- in rank order: one bitmask of ranks per citizen mapped back to names, cheaper than building and sorting a
        -- list of strings per citizen
        list_select({{ citizen_sources() }},
            list_filter(range(1, {{ citizen_sources() | length + 1 }}), lambda r: (bit_or(1 << source_rank) >> r) & 1 = 1))
            as sources
    from records
    group by cccd
)

{#- a table from before built_at was kept has none to keep (and is rebuilt whole) #}
{% if is_incremental() and 'built_at' in adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
select
    citizens.*,
    -- the previous row is these columns then built_at (this SQL made it); any other shape counts as a change
    case
        when struct_insert(citizens, built_at := previous.built_at) is not distinct from previous
            then previous.built_at
        else {{ build_time() }}
    end as built_at
from citizens
left join {{ this }} as previous on previous.cccd = citizens.cccd
{%- else -%}
select *, {{ build_time() }} as built_at from citizens
{%- endif %}
