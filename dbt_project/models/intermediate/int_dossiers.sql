-- Public-service dossiers with the commune resolved to the current commune and the facts every dossier mart counts
-- by (placement, months, resolved, on time), so the marts cannot disagree on them.
-- A view: a join and a few expressions per row, read by the marts and the shared tier's records.
{{ config(materialized='view') }}
with resolved as (
    {{ resolve_commune_code(ref('stg_dossiers')) }}
)

select
    *,
    case when current_commune_code is null then commune_code_resolution else 'placed' end as commune_placement,
    date_trunc('month', received_date)::date as received_month,
    status = 'resolved' as is_resolved,
    case when status = 'resolved' then date_trunc('month', returned_date)::date end as resolved_month,
    coalesce(status = 'resolved' and returned_date <= due_date, false) as is_resolved_on_time,
    -- open (counted in a backlog) from received until returned; cancelled dossiers never are (no cancellation date)
    status <> 'cancelled' as counts_in_backlog
from resolved
