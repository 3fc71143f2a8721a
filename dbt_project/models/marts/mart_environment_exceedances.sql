-- Environment monitoring against national limits (seed ref_environment_thresholds: QCVN 05:2023/BTNMT for air,
-- QCVN 08:2023/BTNMT for surface water). Grain: station_code × parameter × day (local date of measured_at).
-- 24-hour limits are compared with the day's mean, 1-hour limits with each reading (hours_over_1h_limit), ranges
-- (pH) with every reading. A reading in another unit than the limit's is not compared (unit_mismatch).
-- Incremental by period (macros/mart_periods.sql): a run recomputes only the periods its new rows touch.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
    pre_hook=[
        before_begin("{{ forget_stale_build(upstream_fingerprint()) }}"),
        "{{ forget_stale_rows() }}",
        "{{ forget_periods(environment_periods()) }}",
    ],
    post_hook=after_commit("{{ record_build(upstream_fingerprint(),
        watermarks={'environment_readings': newest_ingested(ref('int_environment_readings'))},
        facts=period_facts('day', environment_periods())) }}"),
) }}
with readings as (
    select * from {{ ref('int_environment_readings') }}
),

limits as (
    select
        parameter,
        unit as limit_unit,
        max(upper_limit) filter (where averaging = '1h') as limit_1h,
        max(upper_limit) filter (where averaging = '24h') as limit_24h,
        max(lower_limit) filter (where averaging = 'instant') as lower_limit,
        max(upper_limit) filter (where averaging = 'instant') as upper_limit,
        any_value(regulation) as regulation
    from {{ ref('ref_environment_thresholds') }}
    group by all
),

daily as (
    select
        readings.station_code,
        any_value(readings.current_commune_code) as commune_code,
        readings.parameter,
        cast(readings.measured_at as date) as day,
        any_value(readings.unit) as unit,
        count(*) as reading_count,
        avg(readings.value) as mean_value,
        max(readings.value) as max_value,
        min(readings.value) as min_value,
        any_value(limits.limit_unit) as limit_unit,
        any_value(limits.limit_1h) as limit_1h,
        any_value(limits.limit_24h) as limit_24h,
        any_value(limits.lower_limit) as lower_limit,
        any_value(limits.upper_limit) as upper_limit,
        any_value(limits.regulation) as regulation,
        bool_or({{ unit_key('readings.unit') }} <> {{ unit_key('limits.limit_unit') }}) as unit_mismatch,
        count(*) filter (where {{ unit_key('readings.unit') }} = {{ unit_key('limits.limit_unit') }} and readings.value > limits.limit_1h)
            as hours_over_1h_limit,
        count(*) filter (
            where {{ unit_key('readings.unit') }} = {{ unit_key('limits.limit_unit') }}
                and (readings.value < limits.lower_limit or readings.value > limits.upper_limit)
        ) as readings_out_of_range
    from readings
    left join limits using (parameter)
    group by readings.station_code, readings.parameter, cast(readings.measured_at as date)
),

mart as (
    select
        day,
        station_code,
        daily.commune_code,
        unit_info.commune_full_name as commune_name,
        parameter,
        unit,
        reading_count,
        mean_value,
        max_value,
        min_value,
        limit_1h,
        limit_24h,
        lower_limit,
        upper_limit,
        regulation,
        coalesce(unit_mismatch, false) as unit_mismatch,
        not coalesce(unit_mismatch, false) and limit_24h is not null and mean_value > limit_24h as exceeds_24h_limit,
        hours_over_1h_limit,
        readings_out_of_range,
        not coalesce(unit_mismatch, false) and (
            (limit_24h is not null and mean_value > limit_24h) or hours_over_1h_limit > 0 or readings_out_of_range > 0
        ) as is_exceedance
    from daily
    left join {{ ref('dim_administrative_unit') }} as unit_info on unit_info.commune_code = daily.commune_code
)

select * from mart
{{ only_periods(environment_periods()) }}
order by day, station_code, parameter
