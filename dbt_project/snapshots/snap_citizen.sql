{#- SCD2 history of the master citizen record; described in snap_citizen.yml. A SQL snapshot (not a `relation:`
    one) so it can compare only the survivorship rows rebuilt since the last change it recorded: every other
    row was compared when it was built and has not changed since (int_citizen_survivorship is incremental on the
    CCCD and stamps built_at; the snapshot keeps the built_at of each version it inserted). -#}
{% snapshot snap_citizen %}
{{ config(
    schema='history',
    unique_key='cccd',
    strategy='check',
    check_cols=['current_commune_code', 'full_name', 'phone'],
    snapshot_meta_column_names={'dbt_valid_from': 'valid_from', 'dbt_valid_to': 'valid_to',
                                'dbt_scd_id': 'version_id', 'dbt_updated_at': 'updated_at'},
) }}
select * from {{ ref('int_citizen_survivorship') }}
{%- if execute and adapter.get_relation(this.database, this.schema, this.identifier) is not none %}
where built_at > (select coalesce(max(built_at), '-infinity'::timestamptz) from {{ this }})
{%- endif %}
{% endsnapshot %}
