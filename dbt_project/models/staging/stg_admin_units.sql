-- The statistics office's unit register as delivered, with whether each code is a current unit in the shipped
-- reference (a register that lags the reform shows up as codes that resolve to another commune).
with renamed as (
    select
        province_code,
        province_name,
        commune_code,
        commune_name,
        commune_type,
        _source_file as source_file,
        _ingested_at as ingested_at
    from {{ source('silver', 'admin_units') }}
)

{{ resolve_commune_code('renamed') }}
