-- Public-service dossiers for the IOC, per agency, procedure, current commune and month.
-- Grain: agency_code × procedure_code × commune_code × month, where commune_code is the *current* commune the
-- dossier's commune code resolves to (old codes mapped; null with commune_placement = 'split'/'unknown'/...
-- when a code cannot be placed). Measures:
--   received_count          dossiers received in the month;
--   resolved_count          dossiers returned in the month (status resolved);
--   resolved_on_time_count  of those, returned on or before the due date; on_time_rate = on time / resolved;
--   open_backlog_count      at the end of the month (or the data's last day for the running month): received,
--                           not cancelled, not yet returned;
--   overdue_backlog_count   of those, past their due date.
-- Cancelled dossiers count as received and never as backlog (the extract has no cancellation date).
-- Incremental by period (macros/mart_periods.sql): a run recomputes only the periods its new rows touch.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook=[
        before_begin("{{ forget_stale_build(upstream_fingerprint()) }}"),
        "{{ forget_stale_rows() }}",
        "{{ forget_periods(dossiers_monthly_periods()) }}",
    ],
    post_hook=after_commit("{{ record_build(upstream_fingerprint(),
        watermarks={'dossiers': newest_ingested(ref('int_dossiers'))},
        facts=period_facts('month', dossiers_monthly_periods(), {'as_of': dossiers_as_of()})) }}"),
) }}
{%- set since = dossiers_monthly_since() %}
with dossiers as (
    select
        *,
        coalesce(current_commune_code, '') as commune_key  -- join key: null never equals null
    from {{ ref('int_dossiers') }}
    {%- if since %}
    -- an incremental run: the dossiers that count in a month it rebuilds (received or resolved in it, open at its end)
    where received_month >= {{ since }}
        or resolved_month >= {{ since }}
        or (counts_in_backlog and (returned_date is null or returned_date >= {{ since }}))
    {%- endif %}
),

as_of as (
    select ({{ dossiers_as_of() }}) as as_of_date
),

months as (
    select
        month::date as month,
        least(last_day(month::date), as_of.as_of_date) as period_end
    from as_of,
        unnest(generate_series(
            {%- if since %}
            greatest((select date_trunc('month', min(received_date)) from dossiers), {{ since }}),
            {%- else %}
            (select date_trunc('month', min(received_date)) from dossiers),
            {%- endif %}
            date_trunc('month', as_of.as_of_date),
            interval 1 month
        )) as m(month)
),

received as (
    select
        agency_code, procedure_code, commune_key, commune_placement,
        received_month as month,
        count(*) as received_count
    from dossiers
    group by all
),

resolved as (
    select
        agency_code, procedure_code, commune_key, commune_placement,
        resolved_month as month,
        count(*) as resolved_count,
        count(*) filter (where is_resolved_on_time) as resolved_on_time_count,
        avg(returned_date - received_date) as avg_days_to_resolve
    from dossiers
    where is_resolved
    group by all
),

backlog as (
    select
        dossiers.agency_code, dossiers.procedure_code, dossiers.commune_key, dossiers.commune_placement,
        months.month,
        count(*) as open_backlog_count,
        count(*) filter (where dossiers.due_date < months.period_end) as overdue_backlog_count
    from dossiers
    join months
        on dossiers.received_date <= months.period_end
        and (dossiers.returned_date is null or dossiers.returned_date > months.period_end)
    where dossiers.counts_in_backlog
    group by all
),

combined as (
    select *
    from received
    full outer join resolved using (agency_code, procedure_code, commune_key, commune_placement, month)
    full outer join backlog using (agency_code, procedure_code, commune_key, commune_placement, month)
),

mart as (
    select
        combined.month,
        combined.agency_code,
        agency.agency_name,
        combined.procedure_code,
        nullif(combined.commune_key, '') as commune_code,
        unit.commune_full_name as commune_name,
        combined.commune_placement,
        coalesce(combined.received_count, 0) as received_count,
        coalesce(combined.resolved_count, 0) as resolved_count,
        coalesce(combined.resolved_on_time_count, 0) as resolved_on_time_count,
        combined.resolved_on_time_count / nullif(combined.resolved_count, 0) as on_time_rate,
        combined.avg_days_to_resolve,
        coalesce(combined.open_backlog_count, 0) as open_backlog_count,
        coalesce(combined.overdue_backlog_count, 0) as overdue_backlog_count
    from combined
    left join {{ ref('dim_agency') }} as agency using (agency_code)
    left join {{ ref('dim_administrative_unit') }} as unit on unit.commune_code = combined.commune_key
)

select * from mart
{{ only_periods(dossiers_monthly_periods()) }}
order by month, agency_code, procedure_code, commune_code
