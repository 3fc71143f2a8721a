-- Schools, one row per school code; levels and ownership as English codes.
select
    school_code,
    school_name,
    case level
        when 'Mầm non' then 'preschool'
        when 'Tiểu học' then 'primary'
        when 'THCS' then 'lower_secondary'
        when 'THPT' then 'upper_secondary'
    end as level,
    commune_code,
    case ownership when 'Công lập' then 'public' when 'Tư thục' then 'private' end as ownership,
    _source_file as source_file,
    _ingested_at as ingested_at
from {{ source('silver', 'schools') }}
