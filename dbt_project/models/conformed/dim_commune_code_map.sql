-- Analysts' view of int_commune_code_map: any commune code (pre-2025 or current) → the current commune, with
-- names, so a code from an old extract can be looked up by hand. Rules are documented on int_commune_code_map.
select
    map.commune_code,
    map.resolution,
    map.is_resolved,
    map.current_commune_code,
    unit.commune_full_name as current_commune_name,
    map.current_province_code,
    map.current_province_code = '19' as is_thai_nguyen,
    map.is_current_code,
    map.is_pre2025_code,
    map.in_pre2025_list,
    map.is_era_ambiguous,
    map.split_candidate_codes,
    map.pre2025_province_code,
    map.pre2025_province_name,
    map.pre2025_district_name,
    map.pre2025_commune_name
from {{ ref('int_commune_code_map') }} as map
left join {{ ref('dim_administrative_unit') }} as unit on unit.commune_code = map.current_commune_code
