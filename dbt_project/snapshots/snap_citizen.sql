{#- SCD2 history of the master citizen record; described in snap_citizen.yml. A SQL snapshot (not a `relation:`
    one) so it can compare only the survivorship rows built since its own last run (recorded in the state store,
    macros/build_state.sql): every other row was compared then and has not changed since. -#}
{% snapshot snap_citizen %}
{{ config(
    schema='history',
    unique_key='cccd',
    strategy='check',
    check_cols=['current_commune_code', 'full_name', 'phone'],
    snapshot_meta_column_names={'dbt_valid_from': 'valid_from', 'dbt_valid_to': 'valid_to',
                                'dbt_scd_id': 'version_id', 'dbt_updated_at': 'updated_at'},
    post_hook=after_commit("{{ record_build() }}"),
) }}
select * from {{ ref('int_citizen_survivorship') }}
where built_at > {{ last_built() }}
{% endsnapshot %}
