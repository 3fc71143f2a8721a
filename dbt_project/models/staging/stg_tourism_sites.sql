-- Tourism and heritage sites, one row per site code.
select
    site_code,
    site_name,
    site_type,
    ranking,
    commune_code,
    visitors_last_year,
    _source_file as source_file,
    _ingested_at as ingested_at
from {{ source('silver', 'tourism_sites') }}
