-- Crop areas per commune, crop and season year; commune resolved to the current commune.
with renamed as (
    select
        commune_code,
        crop,
        season_year,
        area_ha,
        output_tonnes,
        _source_file as source_file,
        _ingested_at as ingested_at
    from {{ source('silver', 'agriculture_crops') }}
)

{{ resolve_commune_code('renamed') }}
