-- Health visits, one row per visit. No commune of its own: the facility's commune says where care was given.
select
    visit_id,
    facility_code,
    patient_cccd,
    visit_date,
    icd10_code,
    insured,
    cost_vnd,
    _source_file as source_file,
    _ingested_at as ingested_at
from {{ source('silver', 'health_visits') }}
