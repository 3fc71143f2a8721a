{#- The departments that say something about a citizen, in survivorship rank order (the first wins): ranks are
    positions in this list, so int_citizen_source_records and int_citizen_survivorship cannot disagree on them. -#}
{% macro citizen_sources() %}
    {{ return(['population_registry', 'social_insurance', 'dossiers', 'health_visits']) }}
{% endmacro %}

{% macro citizen_source_rank(source) %}
    {{ return(citizen_sources().index(source) + 1) }}
{% endmacro %}
