-- On-time rate of public-service dossiers per agency and month.
-- received_count counts dossiers by the month they were received; resolved counts by the month they were
-- returned; on_time_rate = resolved on or before the due date / resolved (null when nothing was resolved).
-- Incremental by period (macros/mart_periods.sql): a run recomputes only the periods its new rows touch.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook=[
        before_begin("{{ forget_stale_build(upstream_fingerprint()) }}"),
        "{{ forget_stale_rows() }}",
        "{{ forget_periods(dossier_on_time_periods()) }}",
    ],
    post_hook=after_commit("{{ record_build(upstream_fingerprint(),
        watermarks={'dossiers': newest_ingested(ref('int_dossiers'))},
        facts=period_facts('month', dossier_on_time_periods())) }}"),
) }}
{%- set months = dossier_on_time_months() %}
with dossiers as (
    select * from {{ ref('int_dossiers') }}
    {%- if months %}
    -- an incremental run: the dossiers that count in a month it rebuilds
    where received_month in ({{ months }}) or resolved_month in ({{ months }})
    {%- endif %}
),

received as (
    select agency_code, received_month as month, count(*) as received_count
    from dossiers
    group by all
),

resolved as (
    select
        agency_code,
        resolved_month as month,
        count(*) as resolved_count,
        count(*) filter (where is_resolved_on_time) as resolved_on_time_count
    from dossiers
    where is_resolved
    group by all
),

mart as (
    select
        agency_code,
        agency.agency_name,
        month,
        coalesce(received.received_count, 0) as received_count,
        coalesce(resolved.resolved_count, 0) as resolved_count,
        coalesce(resolved.resolved_on_time_count, 0) as resolved_on_time_count,
        resolved.resolved_on_time_count / nullif(resolved.resolved_count, 0) as on_time_rate
    from received
    full outer join resolved using (agency_code, month)
    left join {{ ref('dim_agency') }} as agency using (agency_code)
)

select * from mart
{{ only_periods(dossier_on_time_periods()) }}
order by agency_code, month
