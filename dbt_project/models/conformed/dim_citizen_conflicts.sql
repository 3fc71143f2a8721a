-- Citizens whose departments disagree, reported instead of silently resolved: one row per CCCD and attribute
-- where at least two departments hold different non-null values. survivor_value is what dim_citizen kept.
-- Includes the CCCD's own sex/birth-year digits against the registry. Communes are compared only between
-- departments whose commune is residence evidence (not dossiers, see int_citizen_source_records).
-- Personal data: conformed schema only.
with records as (
    select * from {{ ref('int_citizen_source_records') }}
),

long as (
    select cccd, source, source_rank, 'full_name' as attribute, full_name as value from records
    union all select cccd, source, source_rank, 'date_of_birth', cast(date_of_birth as varchar) from records
    union all select cccd, source, source_rank, 'sex', sex from records
    union all
    select cccd, source, source_rank, 'commune', current_commune_code from records where is_residence_evidence
    union all select cccd, source, source_rank, 'phone', phone from records
    union all
    select cccd, 'cccd_digits', 9, 'sex', cccd_sex from {{ ref('dim_citizen') }} where sex is not null
    union all
    select cccd, 'cccd_digits', 9, 'birth_year', cast(cccd_birth_year as varchar)
    from {{ ref('dim_citizen') }} where date_of_birth is not null
    union all
    select cccd, 'population_registry', 1, 'birth_year', cast(year(date_of_birth) as varchar)
    from {{ ref('dim_citizen') }} where date_of_birth is not null
)

select
    cccd,
    attribute,
    arg_min(value, source_rank) as survivor_value,
    count(distinct value) as distinct_values,
    list(source || ': ' || value order by source_rank, source) as values_by_source
from long
where value is not null
group by cccd, attribute
having count(distinct value) > 1
