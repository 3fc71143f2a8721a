{# The grain of a model: no two rows share these columns (nulls compare equal, as a grain key should). #}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select {{ combination_of_columns | join(', ') }}, count(*) as rows_with_this_key
from {{ model }}
group by all
having count(*) > 1
{% endtest %}
