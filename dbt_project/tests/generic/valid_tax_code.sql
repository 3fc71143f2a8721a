{# Tax codes (MST) whose check digit is wrong; use with severity warn: invalid numbers are reported, not dropped. #}
{% test valid_tax_code(model, column_name) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null and not coalesce({{ mst_is_valid(column_name) }}, false)
{% endtest %}
