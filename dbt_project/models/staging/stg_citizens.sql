-- One row per citizen in the population registry. Personal data: never selected raw into a shared mart.
select
    cccd,
    full_name,
    date_of_birth,
    case sex when 'Nam' then 'male' when 'Nữ' then 'female' end as sex,
    commune_code,
    phone,
    _source_file as source_file,
    _ingested_at as ingested_at
from {{ source('silver', 'citizens') }}
