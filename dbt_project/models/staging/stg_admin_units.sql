-- The statistics office's unit register as delivered, one row per commune code (resolved in int_admin_units).
select
    province_code,
    province_name,
    commune_code,
    commune_name,
    commune_type,
    _source_file as source_file,
    _ingested_at as ingested_at
from {{ source('silver', 'admin_units') }}
