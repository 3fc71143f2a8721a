-- Citizen field reports (phản ánh hiện trường) for the IOC, per category, current commune and month submitted.
-- Grain: category × commune_code × month (commune_code null when the code cannot be placed, see
-- commune_placement). SLA breach: resolved after the due time, or still open (new/in progress) past it at the
-- data's latest timestamp. Rejected reports are never breaches. No reporter phone here.
-- Incremental by period (macros/mart_periods.sql): a run recomputes only the periods its new rows touch.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook=[
        before_begin("{{ forget_stale_build(upstream_fingerprint(), [ref('int_feedback_versions')]) }}"),
        "{{ forget_stale_rows() }}",
        "{{ forget_periods(feedback_monthly_periods()) }}",
    ],
    post_hook=after_commit("{{ record_build(upstream_fingerprint(),
        watermarks={'feedback': newest_ingested(ref('int_feedback_versions'))},
        facts=period_facts('month', feedback_monthly_periods(), {'as_of': feedback_as_of()})) }}"),
) }}
with feedback as (
    select
        *,
        case when current_commune_code is null then commune_code_resolution else 'placed' end as commune_placement
    from {{ ref('int_feedback') }}
),

as_of as (
    select ({{ feedback_as_of() }}) as as_of_at
),

mart as (
    select
        date_trunc('month', submitted_at)::date as month,
        category,
        current_commune_code as commune_code,
        any_value(unit.commune_full_name) as commune_name,
        commune_placement,
        count(*) as received_count,
        count(*) filter (where status = 'resolved') as resolved_count,
        count(*) filter (where status = 'rejected') as rejected_count,
        count(*) filter (where status in ('new', 'in_progress')) as open_count,
        median(epoch(resolved_at - submitted_at) / 3600.0) filter (where status = 'resolved' and resolved_at is not null)
            as median_resolution_hours,
        count(*) filter (
            where (status = 'resolved' and resolved_at > due_at)
                or (status in ('new', 'in_progress') and due_at < as_of.as_of_at)
        ) as sla_breach_count,
        count(*) filter (where status = 'resolved' and resolved_at <= due_at)
            / nullif(count(*) filter (where status = 'resolved'), 0) as resolved_within_sla_rate
    from feedback
    cross join as_of
    left join {{ ref('dim_administrative_unit') }} as unit on unit.commune_code = feedback.current_commune_code
    group by month, category, current_commune_code, commune_placement
)

select * from mart
{{ only_periods(feedback_monthly_periods()) }}
order by month, category, commune_code
