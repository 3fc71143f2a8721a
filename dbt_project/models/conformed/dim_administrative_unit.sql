-- Current (post-1 July 2025) administrative units: province + commune/ward, no districts.
select
    commune_code,
    commune_name,
    commune_full_name,
    commune_type,
    commune_name_en,
    province_code,
    province_name,
    province_code = '19' as is_thai_nguyen
from {{ ref('ref_admin_units_2025') }}
