-- Enterprise registry, one row per tax code; statuses as English codes.
select
    tax_code,
    enterprise_name,
    legal_form,
    industry_code,
    registered_date,
    case status
        when 'Đang hoạt động' then 'active'
        when 'Tạm ngừng kinh doanh' then 'suspended'
        when 'Đã giải thể' then 'dissolved'
    end as status,
    commune_code,
    charter_capital_vnd,
    legal_rep_cccd,
    updated_at,
    _source_file as source_file,
    _ingested_at as ingested_at
from {{ source('silver', 'enterprises') }}
