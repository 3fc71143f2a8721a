{{ config(meta={'dagster': {'ref': {'name': 'mart_public_service_dossiers_monthly'}}}) }}
-- The commune-level dossier mart and the agency-month mart are two cuts of the same dossiers: per agency and
-- month, received and resolved counts must match.
with by_commune as (
    select agency_code, month, sum(received_count) as received, sum(resolved_count) as resolved,
        sum(resolved_on_time_count) as on_time
    from {{ ref('mart_public_service_dossiers_monthly') }}
    group by all
),

by_agency as (
    select agency_code, month, received_count as received, resolved_count as resolved,
        resolved_on_time_count as on_time
    from {{ ref('mart_dossier_on_time_by_agency_month') }}
)

select *
from by_commune
full outer join by_agency using (agency_code, month)
where coalesce(by_commune.received, 0) <> coalesce(by_agency.received, 0)
   or coalesce(by_commune.resolved, 0) <> coalesce(by_agency.resolved, 0)
   or coalesce(by_commune.on_time, 0) <> coalesce(by_agency.on_time, 0)
