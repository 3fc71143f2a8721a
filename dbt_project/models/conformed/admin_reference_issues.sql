-- Real-world inconsistencies of the shipped reference lists, reported rather than hidden (see seeds/NOTICE.md).
-- Grain: one row per issue_type and commune_code. A warn-severity dbt test surfaces the Thái Nguyên rows on every
-- build; analysts filter on is_thai_nguyen.
with map as (
    select * from {{ ref('int_commune_code_map') }}
),

current_units as (
    select commune_code, commune_full_name, province_code from {{ ref('ref_admin_units_2025') }}
),

mapping as (
    select * from {{ ref('ref_commune_mapping_2025') }}
),

issues as (
    select
        'mapping_old_code_not_in_pre2025_list' as issue_type,
        commune_code,
        pre2025_province_code as province_code,
        'mapping names old commune ' || coalesce(pre2025_commune_name, '?')
            || ' but the pre-2025 list has no such code; resolved through the mapping anyway' as detail
    from map
    where is_pre2025_code and not in_pre2025_list

    union all
    select
        'mapping_target_not_in_2025_list',
        m.old_commune_code,
        coalesce(m.new_province_code, m.old_province_code),
        'target ' || m.new_commune_code || ' ' || trim(m.new_commune_name) || ' is not a current code; '
            || case map.resolution
                when 'mapped_by_name' then 'matched by name to ' || map.current_commune_code
                else 'left unresolved (' || map.resolution || ')'
            end
    from mapping as m
    join map on map.commune_code = m.old_commune_code
    where m.new_commune_code not in (select commune_code from current_units)

    union all
    select
        'split_commune',
        commune_code,
        pre2025_province_code,
        'old commune ' || coalesce(pre2025_commune_name, '?') || ' was split over '
            || array_to_string(split_candidate_codes, ', ') || ': records with this code are not placed on a commune'
    from map
    where resolution = 'split'

    union all
    select
        'code_reused_across_eras',
        commune_code,
        current_province_code,
        'current code also named pre-2025 commune ' || coalesce(pre2025_commune_name, '?')
            || ', which did not go whole into it; read as the current commune'
    from map
    where is_era_ambiguous

    union all
    select distinct
        case
            when {{ tone_mark_key('m.new_commune_name') }} = {{ tone_mark_key('u.commune_full_name') }}
                then 'spelling_variant'
            else 'name_differs'
        end,
        u.commune_code,
        u.province_code,
        'mapping spells "' || trim(m.new_commune_name) || '", 2025 list spells "' || u.commune_full_name || '"'
    from mapping as m
    join current_units as u on u.commune_code = m.new_commune_code
    where lower(regexp_replace(trim(m.new_commune_name), '\s+', ' ', 'g'))
        <> lower(regexp_replace(trim(u.commune_full_name), '\s+', ' ', 'g'))

    union all
    select
        'current_unit_without_mapping',
        commune_code,
        province_code,
        commune_full_name || ' is in the 2025 list but no mapping row leads to it'
    from current_units
    where commune_code not in (select new_commune_code from mapping)
        and commune_code not in (select current_commune_code from map where is_pre2025_code and current_commune_code is not null)
)

select
    issue_type,
    commune_code,
    province_code,
    province_code in ('19', '06') as is_thai_nguyen,
    detail
from issues
