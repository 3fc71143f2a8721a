-- Headline KPIs of the province for the IOC's front page. Grain: one row per day, from the first dossier received
-- to the latest date in the data. Dossiers: received, resolved (returned), on time, and the overdue backlog at the
-- end of the day (received, not cancelled, not returned, past due); feedback received and resolved late that day;
-- environment exceedances that day. Active enterprises and registered population are today's counts.
-- Incremental by period (macros/mart_periods.sql): a run recomputes only the periods its new rows touch.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook=[
        before_begin("{{ forget_stale_build(upstream_fingerprint([active_enterprises(), registered_population()]), [ref('int_feedback_versions'), ref('mart_environment_exceedances')]) }}"),
        "{{ forget_stale_rows() }}",
        "{{ forget_periods(overview_daily_periods()) }}",
    ],
    post_hook=after_commit("{{ record_build(upstream_fingerprint([active_enterprises(), registered_population()]),
        watermarks={'dossiers': newest_ingested(ref('int_dossiers')), 'feedback': newest_ingested(ref('int_feedback_versions')), 'environment_readings': newest_ingested(ref('int_environment_readings'))},
        facts=period_facts('day', overview_daily_periods())) }}"),
) }}
with dossiers as (
    select * from {{ ref('int_dossiers') }}
),

days as (
    select day::date as day
    from unnest(generate_series(
        (select min(received_date) from dossiers),
        (select max(greatest(received_date, coalesce(returned_date, received_date))) from dossiers),
        interval 1 day
    )) as d(day)
),

received as (
    select received_date as day, count(*) as dossiers_received from dossiers group by 1
),

resolved as (
    select
        returned_date as day,
        count(*) as dossiers_resolved,
        count(*) filter (where is_resolved_on_time) as dossiers_resolved_on_time
    from dossiers
    where is_resolved
    group by 1
),

-- A dossier is overdue on day d when due_date < d and it is still open on d (returned_date > d, or null): +1 on
-- due_date + 1, -1 on returned_date; a running sum gives the backlog without a dossier × day join.
overdue_events as (
    select due_date + 1 as day, 1 as delta
    from dossiers
    where counts_in_backlog and (returned_date is null or returned_date > due_date + 1)
    union all
    select returned_date, -1
    from dossiers
    where counts_in_backlog and returned_date > due_date + 1
),

overdue as (
    select day, sum(delta) as delta from overdue_events group by 1
),

feedback as (
    select
        cast(submitted_at as date) as day,
        count(*) as feedback_received,
        count(*) filter (where status = 'resolved' and resolved_at > due_at) as feedback_resolved_late
    from {{ ref('stg_feedback') }}
    group by 1
),

environment as (
    select day, count(*) filter (where is_exceedance) as environment_exceedances
    from {{ ref('mart_environment_exceedances') }}
    group by 1
),

mart as (
    select
        days.day,
        coalesce(received.dossiers_received, 0) as dossiers_received,
        coalesce(resolved.dossiers_resolved, 0) as dossiers_resolved,
        coalesce(resolved.dossiers_resolved_on_time, 0) as dossiers_resolved_on_time,
        resolved.dossiers_resolved_on_time / nullif(resolved.dossiers_resolved, 0) as dossier_on_time_rate,
        coalesce(sum(overdue.delta) over (order by days.day rows between unbounded preceding and current row), 0)
            as dossiers_overdue_backlog,
        coalesce(feedback.feedback_received, 0) as feedback_received,
        coalesce(feedback.feedback_resolved_late, 0) as feedback_resolved_late,
        coalesce(environment.environment_exceedances, 0) as environment_exceedances,
        ({{ active_enterprises() }}) as active_enterprises,
        ({{ registered_population() }}) as registered_population
    from days
    left join received using (day)
    left join resolved using (day)
    left join overdue using (day)
    left join feedback using (day)
    left join environment using (day)
)

select * from mart
{{ only_periods(overview_daily_periods()) }}
order by day
