-- SCD2 integrity: each CCCD has exactly one open version, and versions of one CCCD do not overlap.
-- The window runs only over the CCCDs with more than one version (those whose record ever changed), not over
-- every citizen. A refresh checks the citizens it wrote a version for (macros/incremental_by_cccd.sql).
{{ config(tags=['batch_scoped']) }}
with snapshot as (
    select * from {{ citizens_written_this_run(ref('snap_citizen')) }}
),

per_citizen as (
    select cccd, count(*) as versions, count(*) filter (where valid_to is null) as current_versions
    from snapshot
    group by cccd
),

changed as (
    select
        cccd, valid_from, valid_to,
        lead(valid_from) over (partition by cccd order by valid_from) as next_valid_from
    from snapshot
    where cccd in (select cccd from per_citizen where versions > 1)
)

select cccd, 'not exactly one current version' as problem
from per_citizen
where current_versions <> 1

union all

select cccd, 'versions overlap or leave a gap'
from changed
where next_valid_from is not null and valid_to is distinct from next_valid_from
