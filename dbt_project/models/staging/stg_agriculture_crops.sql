-- Crop areas per commune, crop and season year, as reported.
select
    commune_code,
    crop,
    season_year,
    area_ha,
    output_tonnes,
    _source_file as source_file,
    _ingested_at as ingested_at
from {{ source('silver', 'agriculture_crops') }}
