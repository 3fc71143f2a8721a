-- One row per public-service dossier, statuses as stable English codes; the commune code as
-- sent (int_dossiers resolves it).
select
    dossier_id,
    procedure_code,
    agency_code,
    commune_code,
    received_date,
    due_date,
    returned_date,
    case status
        when 'Đang xử lý' then 'in_progress'
        when 'Đã trả kết quả' then 'resolved'
        when 'Đã hủy' then 'cancelled'
    end as status,
    applicant_cccd,
    _source_file as source_file,
    _ingested_at as ingested_at
from {{ source('silver', 'dossiers') }}
