-- The statistics office's unit register with each code resolved: a register that lags the reform shows
-- up as codes that are not 'current'.
-- A view: resolving is one join on int_commune_code_map, not worth a copy.
{{ config(materialized='view') }}
{{ resolve_commune_code(ref('stg_admin_units')) }}
