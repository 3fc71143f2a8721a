-- Student enrolment, one row per student and school year.
select
    student_id,
    school_year,
    cast(left(school_year, 4) as integer) as school_year_start,
    school_code,
    student_cccd,
    grade,
    enrolled_date,
    left_date,
    _source_file as source_file,
    _ingested_at as ingested_at
from {{ source('silver', 'students') }}
