-- Citizen field reports with the commune resolved to the current commune. Personal data (reporter phone).
-- A view: resolving is one join on int_commune_code_map, not worth a copy.
{{ config(materialized='view') }}
{{ resolve_commune_code(ref('stg_feedback')) }}
