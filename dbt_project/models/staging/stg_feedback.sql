-- Citizen field reports (phản ánh hiện trường), one row per report; statuses as English codes.
select
    report_id,
    category,
    channel,
    commune_code,
    submitted_at,
    due_at,
    resolved_at,
    case status
        when 'Mới' then 'new'
        when 'Đang xử lý' then 'in_progress'
        when 'Đã xử lý' then 'resolved'
        when 'Từ chối' then 'rejected'
    end as status,
    handling_agency_code,
    reporter_phone,
    _source_file as source_file,
    _ingested_at as ingested_at
from {{ source('silver', 'feedback') }}
