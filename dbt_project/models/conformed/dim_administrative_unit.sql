-- Current (post-1 July 2025) administrative units: province + commune/ward/special zone, no districts.
-- Thái Nguyên (19) is the merger of old Thái Nguyên (19) and Bắc Kạn (06); its 92 communes are flagged.
with merged_from as (
    select
        current_commune_code as commune_code,
        count(*) as pre2025_code_count,
        string_agg(distinct pre2025_province_code, ',' order by pre2025_province_code) as pre2025_province_codes
    from {{ ref('int_commune_code_map') }}
    where is_pre2025_code and current_commune_code is not null
    group by 1
)

select
    units.commune_code,
    units.commune_name,
    units.commune_full_name,
    units.commune_type,
    units.commune_name_en,
    units.province_code,
    units.province_name,
    units.province_code = '19' as is_thai_nguyen,
    coalesce(merged_from.pre2025_code_count, 0) as pre2025_code_count,
    merged_from.pre2025_province_codes
from {{ ref('ref_admin_units_2025') }} as units
left join merged_from using (commune_code)
