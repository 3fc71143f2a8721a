-- Citizens whose departments disagree, reported instead of silently resolved: one row per CCCD and attribute
-- where at least two sources hold different non-null values. survivor_value is what dim_citizen kept.
-- Communes are compared only between departments whose commune is residence evidence (registry, social insurance; see
-- int_citizen_source_records). 'cccd_digits' is what the CCCD itself encodes (sex/century digit, birth year),
-- checked against the surviving sex and date of birth. Personal data: conformed schema only.
-- Incremental on the CCCD (macros/incremental_by_cccd.sql): the pre-hook deletes the rows of the citizens rebuilt
-- upstream (their conflicts may be resolved), and only those citizens are compared again.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='cccd',
    on_schema_change='sync_all_columns',
    pre_hook=[
        before_begin("{{ forget_stale_build(model_fingerprint(), [ref('int_citizen_source_records')]) }}"),
        "{{ forget_stale_rows() }}",
        "{{ forget_rebuilt_citizens([ref('int_citizen_source_records'), ref('dim_citizen')]) }}",
    ],
    post_hook=after_commit("{{ record_build(model_fingerprint()) }}"),
) }}
with
{%- if is_incremental() %}
changed as (
    {{ built_since_this(ref('int_citizen_source_records')) }}
    union
    {{ built_since_this(ref('dim_citizen')) }}
),
{%- endif %}

records as (
    select * from {{ ref('int_citizen_source_records') }}
    {{ only_changed('cccd') }}
),

-- One pass finds the CCCDs with any disagreement (min <> max: two non-null values differ; much cheaper than
-- count(distinct) over millions of groups); only their records are unpivoted below.
flagged as (
    select cccd
    from records
    group by cccd
    having count(*) > 1 and (
        min(full_name) <> max(full_name)
        or min(date_of_birth) <> max(date_of_birth)
        or min(sex) <> max(sex)
        or min(current_commune_code) filter (where is_residence_evidence)
            <> max(current_commune_code) filter (where is_residence_evidence)
        or min(phone) <> max(phone)
    )
),

shared as (
    select * from records where cccd in (select cccd from flagged)
),

long as (
    select cccd, source, source_rank, 'full_name' as attribute, full_name as value from shared
    union all select cccd, source, source_rank, 'date_of_birth', cast(date_of_birth as varchar) from shared
    union all select cccd, source, source_rank, 'sex', sex from shared
    union all
    select cccd, source, source_rank, 'commune', current_commune_code from shared where is_residence_evidence
    union all select cccd, source, source_rank, 'phone', phone from shared
),

across_departments as (
    select
        cccd,
        attribute,
        arg_min(value, source_rank) as survivor_value,
        count(distinct value) as distinct_values,
        list(source || ': ' || value order by source_rank, source) as values_by_source
    from long
    where value is not null
    group by cccd, attribute
    having count(distinct value) > 1
),

citizens as (
    select cccd, sex, cccd_sex, year(date_of_birth) as birth_year, cccd_birth_year
    from {{ ref('dim_citizen') }}
    {{ only_changed('cccd') }}
),

conflicts as (
    select * from across_departments

    union all

    select cccd, 'sex_vs_cccd_digits', sex, 2, ['population_registry: ' || sex, 'cccd_digits: ' || cccd_sex]
    from citizens
    where sex <> cccd_sex

    union all

    select cccd, 'birth_year_vs_cccd_digits', cast(birth_year as varchar), 2,
        ['population_registry: ' || birth_year, 'cccd_digits: ' || cccd_birth_year]
    from citizens
    where birth_year <> cccd_birth_year
)

select *, {{ build_time() }} as built_at from conflicts
