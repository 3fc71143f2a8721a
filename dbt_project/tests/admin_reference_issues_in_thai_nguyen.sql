{{ config(severity='warn') }}
-- Warn on every build about the reference-data wrinkles that touch Thái Nguyên (split communes, codes reused
-- across eras): records carrying these codes need a human to place them. Full list: conformed.admin_reference_issues.
select * from {{ ref('admin_reference_issues') }} where is_thai_nguyen
