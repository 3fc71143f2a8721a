-- Master enterprise record, one row per tax code (MST). The MST check digit is validated in SQL (macro
-- mst_is_valid); invalid numbers are flagged, not dropped. A branch (MST-xxx) points at its parent's 10 digits.
select
    tax_code,
    left(tax_code, 10) as parent_tax_code,
    tax_code like '%-%' as is_branch,
    {{ mst_is_valid('tax_code') }} as is_tax_code_valid,
    enterprise_name,
    legal_form,
    industry_code,
    registered_date,
    status,
    commune_code as reported_commune_code,
    current_commune_code,
    commune_code_resolution,
    charter_capital_vnd,
    legal_rep_cccd,
    updated_at
from {{ ref('int_enterprises') }}
