{#
  The month- and day-grain marts are incremental by period: a run deletes and recomputes only the periods its new
  input rows touch, and leaves what a --full-refresh gives (tests/test_marts_incremental.py). What changed since the
  mart's last build comes from the state store (macros/build_state.sql): the watermark of each silver input it
  included. Periods touched:

  - an appended row (dossiers, environment readings): the periods it counts in, and for a running measure (backlog
    at the end of a month or day) every period from the earliest of them on;
  - an upserted feedback report: the periods of every version int_feedback_versions holds for it, so the month a
    correction leaves is recomputed along with the one it enters;
  - the data's "as of" moving (the running month's end, open reports turning overdue): the periods it affects.

  What a mart reads besides the rows it filters is in its fingerprint (upstream_fingerprint, build_state.sql): its
  SQL and every model and seed upstream (reference data), the silver tables' last rewrite (a delete or in-place
  update leaves no newer ingest time), and whole-table figures its rows repeat. A change rebuilds the mart whole.

      pre_hook=[before_begin("{{ forget_stale_build(upstream_fingerprint()) }}"), "{{ forget_stale_rows() }}",
                "{{ forget_periods(x_periods()) }}"],
      ... select * from mart {{ only_periods(x_periods()) }}
#}

{# Pre-hook in the transaction: delete the periods this run recomputes (`condition` over the mart's columns). #}
{% macro forget_periods(condition) -%}
    {%- if execute and is_incremental() -%}
    delete from {{ this }} where {{ condition }}
    {%- endif -%}
{%- endmacro %}

{# The mart's last filter: on an incremental run, only the periods forget_periods deleted. #}
{% macro only_periods(condition) -%}
    {%- if is_incremental() %}where {{ condition }}{% endif -%}
{%- endmacro %}

{# Dossiers (append) that reached silver after this mart's last build. #}
{% macro new_dossiers() -%}
    select * from {{ ref('int_dossiers') }} where ingested_at > {{ input_watermark('dossiers') }}
{%- endmacro %}

{# Submission times of every version of the reports that changed (upserted) since this mart's last build. #}
{% macro changed_feedback() -%}
    select submitted_at from {{ ref('int_feedback_versions') }}
    where report_id in (
        select report_id from {{ ref('int_feedback_versions') }} where ingested_at > {{ input_watermark('feedback') }}
    )
{%- endmacro %}

{# Environment readings (append) that reached silver after this mart's last build. #}
{% macro new_environment_readings() -%}
    select * from {{ ref('int_environment_readings') }}
    where ingested_at > {{ input_watermark('environment_readings') }}
{%- endmacro %}

{# The newest input change a mart included, per input (record_build's watermarks). #}
{% macro newest_ingested(relation) -%}
    select max(ingested_at) from {{ relation }}
{%- endmacro %}

{# The dossier data's last day: the running month ends there. #}
{% macro dossiers_as_of() -%}
    select max(greatest(received_date, coalesce(returned_date, received_date))) from {{ ref('int_dossiers') }}
{%- endmacro %}

{# The feedback data's latest time: open reports due before it are SLA breaches. #}
{% macro feedback_as_of() -%}
    select max(greatest(submitted_at, coalesce(resolved_at, submitted_at))) from {{ ref('int_feedback') }}
{%- endmacro %}

{# mart_dossier_on_time_by_agency_month: the months new dossiers were received or resolved in. #}
{% macro dossier_on_time_periods() -%}
    month in ({{ dossier_on_time_months() or dossier_on_time_months_query() }})
{%- endmacro %}

{% macro dossier_on_time_months_query() -%}
    select received_month from ({{ new_dossiers() }})
    union
    select resolved_month from ({{ new_dossiers() }})
{%- endmacro %}

{# Those months as date literals (none to rebuild: a month after any data), on a fresh build (fresh_build_literal). #}
{% macro dossier_on_time_months() -%}
    {{- return(fresh_build_literal(
        "select coalesce(string_agg(distinct format('date ''{}''', month), ', '), 'date ''9999-12-01''') from ("
        ~ dossier_on_time_months_query() ~ ") as changed(month) where month is not null")) -}}
{%- endmacro %}

{# mart_public_service_dossiers_monthly: its backlogs run on, so every month from the earliest a new dossier counts
   in (received, resolved), and from the month of the earlier "as of" when it moved (that month's end moved). #}
{% macro dossiers_monthly_periods() -%}
    month >= {{ dossiers_monthly_since() or '(' ~ dossiers_monthly_first_period() ~ ')' }}
{%- endmacro %}

{% macro dossiers_monthly_first_period() -%}
    select least(
        min(least(received_month, resolved_month)),
        (select date_trunc('month', least(cast({{ built_fact('as_of') }} as date), ({{ dossiers_as_of() }})))::date
         where cast({{ built_fact('as_of') }} as date) is distinct from ({{ dossiers_as_of() }}))
    )
    from ({{ new_dossiers() }})
{%- endmacro %}

{# The first month it rebuilds as a date literal (none to rebuild: the month after the data's last), on a fresh
   build (fresh_build_literal). #}
{% macro dossiers_monthly_since() -%}
    {{- return(fresh_build_literal(
        "select format('date ''{}''', coalesce((" ~ dossiers_monthly_first_period() ~ ")::date, "
        ~ "(date_trunc('month', (" ~ dossiers_as_of() ~ ")) + interval 1 month)::date, date '9999-12-01'))")) -}}
{%- endmacro %}

{# On an incremental run whose last build is fresh (its fingerprint unchanged), the SQL text `sql` computes, read
   before the model's SQL runs: a constant lets DuckDB skip the dossiers and periods a run does not rebuild, which a
   subquery in the filter does not (bench/README.md). None on a full build and when the build is stale: the model's
   SQL is compiled before forget_stale_build runs, so then it computes every period. #}
{% macro fresh_build_literal(sql) -%}
    {%- if execute and is_incremental() -%}
        {{- return(run_query(
            "select case when " ~ last_build('fingerprint') ~ " is not distinct from "
            ~ upstream_fingerprint() ~ " then (" ~ sql ~ ") end"
        ).columns[0].values()[0]) -}}
    {%- endif -%}
    {{- return(none) -}}
{%- endmacro %}

{# mart_feedback_handling_monthly: the months of the changed reports' versions, and the months of open reports whose
   due time lies between the previous and the new "as of" (they turned, or stopped being, SLA breaches). #}
{% macro feedback_monthly_periods() -%}
    month in (
        select date_trunc('month', submitted_at)::date from ({{ changed_feedback() }})
        union
        select date_trunc('month', submitted_at)::date from {{ ref('int_feedback') }}
        where status in ('new', 'in_progress')
            and due_at >= least(cast({{ built_fact('as_of') }} as timestamp), ({{ feedback_as_of() }}))
            and due_at < greatest(cast({{ built_fact('as_of') }} as timestamp), ({{ feedback_as_of() }}))
    )
{%- endmacro %}

{# mart_environment_exceedances: the days of new readings. #}
{% macro environment_periods() -%}
    day in (select cast(measured_at as date) from ({{ new_environment_readings() }}))
{%- endmacro %}

{# mart_province_overview_daily: its overdue backlog runs on, so every day from the earliest a new dossier counts
   in (received, resolved, turning overdue); and the days of changed feedback and of new environment readings. #}
{% macro overview_daily_periods() -%}
    (
        day >= (select min(least(received_date, due_date + 1, returned_date)) from ({{ new_dossiers() }}))
        or day in (select cast(submitted_at as date) from ({{ changed_feedback() }}))
        or day in (select cast(measured_at as date) from ({{ new_environment_readings() }}))
    )
{%- endmacro %}

{# mart_province_overview_daily repeats these today's counts on every day (a change rebuilds it whole). #}
{% macro active_enterprises() -%}
    select count(*) from {{ ref('dim_enterprise') }} where status = 'active'
{%- endmacro %}

{% macro registered_population() -%}
    select count(*) from {{ ref('dim_citizen') }} where in_population_registry
{%- endmacro %}

{# record_build facts: how many periods the mart holds, how many this run recomputed (the post-hook sees the same
   inputs and state as the run did), and `other_facts`. #}
{% macro period_facts(column, condition, other_facts={}) -%}
    {%- set facts = {
        'periods': 'select count(distinct ' ~ column ~ ') from ' ~ this,
        'periods_rebuilt': 'select count(distinct ' ~ column ~ ') from ' ~ this ~ ' where ' ~ condition,
    } -%}
    {%- do facts.update(other_facts) -%}
    {{ return(facts) }}
{%- endmacro %}
