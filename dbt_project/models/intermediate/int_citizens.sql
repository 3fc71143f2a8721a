-- Population registry with the commune resolved to the current commune. Personal data.
-- A view: resolving is one join on int_commune_code_map, not worth a copy.
{{ config(materialized='view') }}
{{ resolve_commune_code(ref('stg_citizens')) }}
