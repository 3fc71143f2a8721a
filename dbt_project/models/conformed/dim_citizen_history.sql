-- SCD2 history of the master citizen record from the snapshot snap_citizen: one row per CCCD and version, with
-- the period it was valid. Personal data: conformed schema only.
-- A view: a renaming of the snapshot (2.2 M rows at province scale) is not worth a 3 s copy every refresh; the
-- snapshot's tests (version_id unique and not null, one current version per CCCD) cover its rows.
{{ config(materialized='view') }}
select
    version_id,
    md5(cccd) as citizen_key,
    cccd,
    full_name,
    current_commune_code,
    phone,
    commune_source,
    valid_from,
    valid_to,
    valid_to is null as is_current
from {{ ref('snap_citizen') }}
