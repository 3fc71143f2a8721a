{#
  Vietnamese tax code (mã số thuế, MST): 10 digits, or 10 + '-' + 3 for a branch. The 10th digit is
  10 - (Σ wᵢ·dᵢ mod 11) with weights 31, 29, 23, 19, 17, 13, 7, 5, 3 over digits 1-9; a remainder of 0 gives
  10, which is no digit, so such a number is invalid. A 0000000 serial or a 000 branch is never issued (same rules
  as python-stdnum's stdnum.vn.mst).
#}
{% macro mst_is_valid(expr) -%}
    {%- set weights = [31, 29, 23, 19, 17, 13, 7, 5, 3] -%}
    (
        regexp_full_match({{ expr }}, '\d{10}(-\d{3})?')
        and substr({{ expr }}, 3, 7) <> '0000000'
        and substr({{ expr }}, 12, 3) <> '000'
        and 10 - (
            {%- for w in weights %}
            {{ w }} * try_cast(substr({{ expr }}, {{ loop.index }}, 1) as integer){{ ' +' if not loop.last }}
            {%- endfor %}
        ) % 11 = try_cast(substr({{ expr }}, 10, 1) as integer)
    )
{%- endmacro %}
