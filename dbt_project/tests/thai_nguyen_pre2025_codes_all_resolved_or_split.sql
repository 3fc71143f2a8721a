-- Every pre-2025 commune code of old Thái Nguyên (19) and Bắc Kạn (06) must land on a current commune of the new
-- Thái Nguyên, or be a split flagged as such: anything else means the reference seeds are broken.
select commune_code, resolution, current_commune_code, current_province_code
from {{ ref('int_commune_code_map') }}
where pre2025_province_code in ('19', '06')
  and is_pre2025_code
  and not (
    (is_resolved and current_province_code = '19')
    or (resolution = 'split' and current_province_code = '19')
  )
