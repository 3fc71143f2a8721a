-- Visits at the health facilities of each current commune over the last 365 days of visit data, for
-- mart_commune_health_education. A table of its own so that a run which changes only the population (a day of
-- dossiers) rebuilds the mart without reading the 3 M visits again.
with visit_window as (
    select max(visit_date) - interval 365 day as window_start from {{ ref('stg_health_visits') }}
)

select
    facilities.current_commune_code as commune_code,
    count(*) as visits_last_365d,
    count(distinct visits.patient_cccd) as patients_last_365d,
    avg(case when visits.insured then 1.0 else 0.0 end) as insured_visit_share,
    avg(visits.cost_vnd) as avg_visit_cost_vnd
from {{ ref('stg_health_visits') }} as visits
join {{ ref('int_health_facilities') }} as facilities using (facility_code)
cross join visit_window
where visits.visit_date > visit_window.window_start
group by 1
