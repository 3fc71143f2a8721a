-- Health and education indicators per current commune of Thái Nguyên, for the IOC.
-- Grain: one row per commune_code (the 92 current communes). Facilities and schools count where they are (their
-- commune code resolved to the current commune); visits count at the facility's commune over the last 365 days
-- of visit data; enrolment is the latest school year, students still enrolled (no leaving date). Population is
-- the population registry's citizens whose current commune is this one.
with communes as (
    select commune_code, commune_full_name as commune_name
    from {{ ref('dim_administrative_unit') }}
    where is_thai_nguyen
),

population as (
    select current_commune_code as commune_code, count(*) as registered_population
    from {{ ref('dim_citizen') }}
    where in_population_registry
    group by 1
),

facilities as (
    select
        current_commune_code as commune_code,
        count(*) as health_facility_count,
        count(*) filter (where facility_type = 'commune_health_station') as commune_health_station_count,
        coalesce(sum(beds), 0) as hospital_beds
    from {{ ref('int_health_facilities') }}
    group by 1
),

school_counts as (
    select
        current_commune_code as commune_code,
        count(*) as school_count,
        count(*) filter (where level = 'preschool') as preschool_count,
        count(*) filter (where level = 'primary') as primary_school_count,
        count(*) filter (where level = 'lower_secondary') as lower_secondary_school_count,
        count(*) filter (where level = 'upper_secondary') as upper_secondary_school_count
    from {{ ref('int_schools') }}
    group by 1
),

latest_year as (
    select max(school_year) as school_year from {{ ref('stg_students') }}
),

enrolment as (
    select
        schools.current_commune_code as commune_code,
        any_value(students.school_year) as school_year,
        count(distinct students.student_id) as students_enrolled
    from {{ ref('stg_students') }} as students
    join latest_year using (school_year)
    join {{ ref('int_schools') }} as schools using (school_code)
    where students.left_date is null
    group by 1
)

select
    communes.commune_code,
    communes.commune_name,
    coalesce(population.registered_population, 0) as registered_population,
    coalesce(facilities.health_facility_count, 0) as health_facility_count,
    coalesce(facilities.commune_health_station_count, 0) as commune_health_station_count,
    coalesce(facilities.hospital_beds, 0) as hospital_beds,
    10000.0 * coalesce(facilities.hospital_beds, 0) / nullif(population.registered_population, 0)
        as beds_per_10k_population,
    coalesce(visits.visits_last_365d, 0) as visits_last_365d,
    coalesce(visits.patients_last_365d, 0) as patients_last_365d,
    visits.insured_visit_share,
    visits.avg_visit_cost_vnd,
    coalesce(school_counts.school_count, 0) as school_count,
    coalesce(school_counts.preschool_count, 0) as preschool_count,
    coalesce(school_counts.primary_school_count, 0) as primary_school_count,
    coalesce(school_counts.lower_secondary_school_count, 0) as lower_secondary_school_count,
    coalesce(school_counts.upper_secondary_school_count, 0) as upper_secondary_school_count,
    (select school_year from latest_year) as school_year,
    coalesce(enrolment.students_enrolled, 0) as students_enrolled,
    coalesce(enrolment.students_enrolled, 0) / nullif(school_counts.school_count, 0) as students_per_school
from communes
left join population using (commune_code)
left join facilities using (commune_code)
left join {{ ref('int_health_visits_by_commune') }} as visits using (commune_code)
left join school_counts using (commune_code)
left join enrolment using (commune_code)
order by communes.commune_code
