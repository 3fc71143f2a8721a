-- SCD2 integrity: each CCCD has exactly one open version, and versions of one CCCD do not overlap.
with versions as (
    select
        cccd, valid_from, valid_to,
        lead(valid_from) over (partition by cccd order by valid_from) as next_valid_from
    from {{ ref('snap_citizen') }}
)

select cccd, 'not exactly one current version' as problem
from versions
group by cccd
having count(*) filter (where valid_to is null) <> 1

union all

select cccd, 'versions overlap or leave a gap'
from versions
where next_valid_from is not null and valid_to is distinct from next_valid_from
