-- On-time rate of public-service dossiers per agency and month.
-- received_count counts dossiers by the month they were received; resolved counts by the month they were
-- returned; on_time_rate = resolved on or before the due date / resolved (null when nothing was resolved).
with dossiers as (
    select * from {{ ref('int_dossiers') }}
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
)

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
order by agency_code, month
