-- Health facilities, one row per facility code, facility types as English codes.
select
    facility_code,
    facility_name,
    case facility_type
        when 'Bệnh viện tỉnh' then 'provincial_hospital'
        when 'Trung tâm y tế' then 'health_centre'
        when 'Trạm y tế xã' then 'commune_health_station'
        when 'Phòng khám tư nhân' then 'private_clinic'
    end as facility_type,
    commune_code,
    beds,
    _source_file as source_file,
    _ingested_at as ingested_at
from {{ source('silver', 'health_facilities') }}
