-- Agencies that handle public services: provincial departments (sở, ban, ngành) from ref_agencies, and the
-- people's committee (UBND) of each of Thái Nguyên's 92 current communes, coded 'UBND.<commune_code>'.
select
    agency_code,
    agency_name,
    agency_type,
    null::varchar as commune_code
from {{ ref('ref_agencies') }}

union all

select
    'UBND.' || commune_code as agency_code,
    'UBND ' || commune_full_name as agency_name,
    'commune_committee' as agency_type,
    commune_code
from {{ ref('dim_administrative_unit') }}
where is_thai_nguyen
