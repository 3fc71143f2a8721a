-- What each department says about a citizen, one row per CCCD and department, for survivorship and conflicts.
-- Departments rank (macro citizen_sources): population registry (1) wins; social insurance (2), dossier applicants
-- (3) and health visits (4) only fill what it lacks. Within a department the latest record speaks for it.
-- is_residence_evidence: whether the department's commune says where the citizen lives. A dossier's commune is
-- where it was filed and a health station visit only suggests residence, so both fill a missing commune but are not
-- held against the registry as conflicts (registry vs social insurance are).
-- Personal data: stays in intermediate/conformed, never raw in a mart.
-- Incremental on the CCCD (macros/incremental_by_cccd.sql): a run recomputes the citizens with department rows
-- ingested after the newest this table has seen from that department. ingested_at: the newest input row of the
-- department for the citizen; built_at: the run that wrote the row.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='cccd',
    on_schema_change='sync_all_columns',
    pre_hook=[
        before_begin("{{ forget_stale_build(citizen_records_fingerprint()) }}"),
        "{{ forget_stale_rows() }}",
    ],
    post_hook=after_commit("{{ record_build(citizen_records_fingerprint()) }}"),
) }}
-- depends_on: {{ ref('int_commune_code_map') }}

with
{%- if is_incremental() %}
changed as (
    select cccd from {{ ref('int_citizens') }} where ingested_at > {{ seen_from('population_registry') }}
    union
    select citizen_cccd from {{ ref('int_social_insurance') }} where ingested_at > {{ seen_from('social_insurance') }}
    union
    select applicant_cccd from {{ ref('int_dossiers') }} where ingested_at > {{ seen_from('dossiers') }}
    union
    select patient_cccd from {{ ref('stg_health_visits') }} where ingested_at > {{ seen_from('health_visits') }}
),
{%- endif %}

registry as (
    select
        cccd,
        'population_registry' as source,
        true as is_residence_evidence,
        {{ citizen_source_rank('population_registry') }} as source_rank,
        full_name,
        date_of_birth,
        sex,
        current_commune_code,
        phone,
        cast(ingested_at as date) as observed_on,
        ingested_at
    from {{ ref('int_citizens') }}
    {{ only_changed('cccd') }}
),

social_insurance as (
    select
        citizen_cccd as cccd,
        'social_insurance' as source,
        true as is_residence_evidence,
        {{ citizen_source_rank('social_insurance') }} as source_rank,
        null::varchar as full_name,
        null::date as date_of_birth,
        null::varchar as sex,
        current_commune_code,
        null::varchar as phone,
        start_date as observed_on,
        max(ingested_at) over (partition by citizen_cccd) as ingested_at
    from {{ ref('int_social_insurance') }}
    {{ only_changed('citizen_cccd') }}
    qualify row_number() over (partition by citizen_cccd order by start_date desc, insurance_number desc) = 1
),

dossier_applicants as (
    select
        applicant_cccd as cccd,
        'dossiers' as source,
        false as is_residence_evidence,
        {{ citizen_source_rank('dossiers') }} as source_rank,
        null::varchar as full_name,
        null::date as date_of_birth,
        null::varchar as sex,
        current_commune_code,
        null::varchar as phone,
        received_date as observed_on,
        max(ingested_at) over (partition by applicant_cccd) as ingested_at
    from {{ ref('int_dossiers') }}
    where applicant_cccd is not null {{ only_changed('applicant_cccd', 'and') }}
    qualify row_number() over (partition by applicant_cccd order by received_date desc, dossier_id desc) = 1
),

-- A visit to a commune health station (trạm y tế xã) is taken as a sign of residence in that commune; visits to
-- hospitals and clinics say nothing about where the patient lives.
health_visits as (
    select
        visits.patient_cccd as cccd,
        'health_visits' as source,
        false as is_residence_evidence,
        {{ citizen_source_rank('health_visits') }} as source_rank,
        null::varchar as full_name,
        null::date as date_of_birth,
        null::varchar as sex,
        case when facilities.facility_type = 'commune_health_station' then facilities.current_commune_code end
            as current_commune_code,
        null::varchar as phone,
        visits.visit_date as observed_on,
        max(visits.ingested_at) over (partition by visits.patient_cccd) as ingested_at
    from {{ ref('stg_health_visits') }} as visits
    left join {{ ref('int_health_facilities') }} as facilities using (facility_code)
    {{ only_changed('visits.patient_cccd') }}
    qualify row_number() over (
        partition by visits.patient_cccd
        order by (facilities.facility_type = 'commune_health_station') desc nulls last, visits.visit_date desc,
            visits.visit_id desc
    ) = 1
),

unioned as (
    select * from registry
    union all select * from social_insurance
    union all select * from dossier_applicants
    union all select * from health_visits
)

select *, {{ build_time() }} as built_at from unioned
