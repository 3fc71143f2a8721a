-- Every commune code a department may send, of either era, resolved to the current (post-1 July 2025) commune.
--
-- Rules, in order (see _intermediate.yml for why):
--   current        the code is a current commune code: it means that commune, even when the same code also
--                  named an older, smaller unit (3,315 of the 3,321 current codes reuse a pre-2025 code);
--   mapped         a pre-2025 code whose commune went whole into exactly one current commune;
--   mapped_by_name as mapped, but the mapping names a target code missing from the 2025 list and the target's name
--                  matches exactly one current commune of that province (tone-mark placement ignored);
--   split          a pre-2025 commune divided over several current communes: a code alone cannot place a record,
--                  so current_commune_code stays null (candidates listed), never guessed;
--   target_unknown the mapping's target is neither a listed code nor a unique name: left unresolved.
with current_units as (
    select
        commune_code,
        commune_full_name,
        province_code,
        {{ tone_mark_key('commune_full_name') }} as name_key
    from {{ ref('ref_admin_units_2025') }}
),

pre2025_units as (
    select commune_code, commune_full_name, district_code, district_full_name, province_code, province_full_name
    from {{ ref('ref_admin_units_pre2025') }}
),

unique_names as (
    select province_code, name_key, any_value(commune_code) as commune_code
    from current_units
    group by all
    having count(*) = 1
),

-- Some mapping rows carry no target province: their name must then be unique in the whole country.
unique_names_nationwide as (
    select name_key, any_value(commune_code) as commune_code
    from current_units
    group by all
    having count(*) = 1
),

mapping as (
    select
        m.old_commune_code,
        m.old_province_code,
        trim(m.old_commune_name) as old_commune_name,
        m.new_province_code,
        m.new_commune_code,
        coalesce(listed.commune_code, by_name.commune_code, by_name_nationwide.commune_code) as target_code,
        case
            when listed.commune_code is not null then 'listed'
            when coalesce(by_name.commune_code, by_name_nationwide.commune_code) is not null then 'matched_by_name'
            else 'absent'
        end as target_status
    from {{ ref('ref_commune_mapping_2025') }} as m
    left join current_units as listed on listed.commune_code = m.new_commune_code
    left join unique_names as by_name
        on by_name.province_code = m.new_province_code
        and by_name.name_key = {{ tone_mark_key('m.new_commune_name') }}
    left join unique_names_nationwide as by_name_nationwide
        on m.new_province_code is null
        and by_name_nationwide.name_key = {{ tone_mark_key('m.new_commune_name') }}
),

mapping_with_province as (
    select mapping.*, target_unit.province_code as target_province_code
    from mapping
    left join current_units as target_unit on target_unit.commune_code = mapping.target_code
),

old_codes as (
    select
        old_commune_code as commune_code,
        any_value(old_province_code) as old_province_code,
        any_value(old_commune_name) as old_commune_name,
        count(*) as target_count,
        list(distinct target_code order by target_code) filter (where target_code is not null) as candidate_codes,
        count(distinct target_province_code) = 1 and count(target_province_code) = count(*) as single_target_province,
        any_value(target_province_code) as target_province_code,
        bool_or(target_status = 'absent') as has_absent_target,
        bool_or(target_status = 'matched_by_name') as has_name_matched_target
    from mapping_with_province
    group by 1
),

all_codes as (
    select commune_code from current_units
    union
    select commune_code from pre2025_units
    union
    select commune_code from old_codes
),

resolved as (
    select
        c.commune_code,
        case
            when cu.commune_code is not null then 'current'
            when oc.commune_code is null then 'no_mapping'
            when oc.target_count > 1 then 'split'
            when oc.has_absent_target then 'target_unknown'
            when oc.has_name_matched_target then 'mapped_by_name'
            else 'mapped'
        end as resolution,
        cu.commune_code is not null as is_current_code,
        (p.commune_code is not null or oc.commune_code is not null) as is_pre2025_code,
        p.commune_code is not null as in_pre2025_list,
        oc.target_count,
        oc.candidate_codes,
        oc.single_target_province,
        oc.target_province_code,
        coalesce(oc.old_province_code, p.province_code) as pre2025_province_code,
        p.province_full_name as pre2025_province_name,
        p.district_code as pre2025_district_code,
        p.district_full_name as pre2025_district_name,
        coalesce(p.commune_full_name, oc.old_commune_name) as pre2025_commune_name
    from all_codes as c
    left join current_units as cu using (commune_code)
    left join pre2025_units as p using (commune_code)
    left join old_codes as oc using (commune_code)
)

select
    resolved.commune_code,
    case
        when resolution = 'current' then commune_code
        when resolution in ('mapped', 'mapped_by_name') then candidate_codes[1]
    end as current_commune_code,
    resolution,
    resolution in ('current', 'mapped', 'mapped_by_name') as is_resolved,
    is_current_code,
    is_pre2025_code,
    in_pre2025_list,
    -- A current code that also named a pre-2025 unit which did not go whole into this commune: a department still
    -- on old codes would mean something else by it. Reported in admin_reference_issues.
    is_current_code and is_pre2025_code
        and (target_count > 1 or candidate_codes[1] is distinct from commune_code) as is_era_ambiguous,
    target_count,
    case when resolution = 'split' then candidate_codes end as split_candidate_codes,
    -- Province of the current commune; for a split, the province every candidate lies in (when they agree), so a
    -- record from a split commune still counts for its province.
    case
        when resolution = 'current' then current_units.province_code
        when single_target_province then target_province_code
    end as current_province_code,
    pre2025_province_code,
    pre2025_province_name,
    pre2025_district_code,
    pre2025_district_name,
    pre2025_commune_name
from resolved
left join current_units using (commune_code)
