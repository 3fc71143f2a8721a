-- Decision 19/2025/QĐ-TTg: the new Thái Nguyên has 92 communes and wards.
select count(*) as communes
from {{ ref('dim_administrative_unit') }}
where is_thai_nguyen
having count(*) <> 92
