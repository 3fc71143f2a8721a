-- Master citizen record ("dữ liệu chủ"), one row per CCCD, survivorship across departments (see
-- int_citizen_survivorship). citizen_key is a one-way hash of the CCCD for marts that must not carry the CCCD.
-- Personal data: conformed schema only. Incremental on the CCCD (macros/incremental_by_cccd.sql): rewrites the
-- citizens whose survivorship row changed.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='cccd',
    on_schema_change='sync_all_columns',
    pre_hook=[
        before_begin("{{ forget_stale_build(model_fingerprint(), [ref('int_citizen_survivorship')]) }}"),
        "{{ forget_stale_rows() }}",
    ],
    post_hook=after_commit("{{ record_build(model_fingerprint()) }}"),
) }}
select
    md5(cccd) as citizen_key,
    cccd,
    full_name,
    full_name_source,
    date_of_birth,
    sex,
    current_commune_code,
    commune_source,
    phone,
    phone_source,
    in_population_registry,
    sources,
    -- What the CCCD itself says: province of registration (pre-2025 code, still valid) and sex/century digit.
    substr(cccd, 2, 2) as registration_province_code,
    case when try_cast(substr(cccd, 4, 1) as integer) % 2 = 0 then 'male' else 'female' end as cccd_sex,
    (try_cast(substr(cccd, 4, 1) as integer) // 2) * 100 + 1900 + try_cast(substr(cccd, 5, 2) as integer)
        as cccd_birth_year,
    built_at
from {{ ref('int_citizen_survivorship') }}
{% if is_incremental() -%}
where cccd in ({{ built_since_this(ref('int_citizen_survivorship')) }})
{%- endif %}
