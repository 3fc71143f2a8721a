-- Social insurance participation, one row per insurance number.
select
    insurance_number,
    citizen_cccd,
    employer_tax_code,
    commune_code,
    start_date,
    end_date,
    monthly_salary_vnd,
    _source_file as source_file,
    _ingested_at as ingested_at
from {{ source('silver', 'social_insurance') }}
