{#
  Resolve a department's commune code (pre-2025 or current) to the current commune, through
  int_commune_code_map. Every intermediate model over a staged source with a commune code selects through this
  macro, so all of them apply the same rules (documented on int_commune_code_map):

      {{ resolve_commune_code(ref('stg_schools')) }}       -- adds current_commune_code, commune_code_resolution
      {{ resolve_commune_code('renamed', 'commune_code', 'home_') }}  -- home_current_commune_code, ...
#}
{% macro resolve_commune_code(relation, code_column='commune_code', prefix='') -%}
select
    src.*,
    commune_map.current_commune_code as {{ prefix }}current_commune_code,
    coalesce(commune_map.resolution, case when src.{{ code_column }} is null then 'missing' else 'unknown' end)
        as {{ prefix }}commune_code_resolution
from {{ relation }} as src
left join {{ ref('int_commune_code_map') }} as commune_map
    on commune_map.commune_code = src.{{ code_column }}
{%- endmacro %}

{#
  Vietnamese names written with the "old" tone-mark placement (Hòa, Thủy) and the "new" one (Hoà, Thuỷ) compare
  equal after this: the mark moves onto the second vowel of oa/oe/uy. Text must already be NFC.
#}
{% macro tone_mark_key(expr) -%}
    {%- set pairs = [
        ('òa', 'oà'), ('óa', 'oá'), ('ỏa', 'oả'), ('õa', 'oã'), ('ọa', 'oạ'),
        ('òe', 'oè'), ('óe', 'oé'), ('ỏe', 'oẻ'), ('õe', 'oẽ'), ('ọe', 'oẹ'),
        ('ùy', 'uỳ'), ('úy', 'uý'), ('ủy', 'uỷ'), ('ũy', 'uỹ'), ('ụy', 'uỵ'),
    ] -%}
    {%- set ns = namespace(sql="replace(lower(regexp_replace(trim(" ~ expr ~ "), '\\s+', ' ', 'g')), '’', '''')") -%}
    {%- for old, new in pairs -%}
        {%- set ns.sql = "replace(" ~ ns.sql ~ ", '" ~ old ~ "', '" ~ new ~ "')" -%}
    {%- endfor -%}
    {{ ns.sql }}
{%- endmacro %}

{# Units as instruments write them (µg/m3, ug/m³, mg/l; pH as 'pH', '-' or blank) compare equal after this. #}
{% macro unit_key(expr) -%}
    case
        when coalesce(lower(trim({{ expr }})), '') in ('ph', '-', '') then '-'
        else replace(replace(replace(lower(trim({{ expr }})), 'µ', 'u'), 'μ', 'u'), '³', '3')
    end
{%- endmacro %}
