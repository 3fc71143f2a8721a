-- Environment monitoring readings, one row per station, parameter and measurement time.
select
    station_code,
    commune_code,
    parameter,
    measured_at,
    value,
    unit,
    _source_file as source_file,
    _ingested_at as ingested_at
from {{ source('silver', 'environment_readings') }}
