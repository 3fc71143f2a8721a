-- Public-service dossiers with the commune resolved to the current commune and the facts every dossier mart counts
-- by (placement, months, resolved, on time), so the marts cannot disagree on them.
-- A table appended with the dossiers silver took in since its last build (dossiers are append-only): the marts, the
-- citizen chain and the shared tier find a night's dossiers by ingested_at without reading and resolving every
-- dossier again. Its SQL, the commune map or a silver rewrite changing rebuilds it whole (macros/build_state.sql).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook=[before_begin("{{ forget_stale_build(upstream_fingerprint()) }}"), "{{ forget_stale_rows() }}"],
    post_hook=after_commit("{{ record_build(upstream_fingerprint(), watermarks={'dossiers': newest_ingested(this)}) }}"),
) }}
with dossiers as (
    select * from {{ ref('stg_dossiers') }}
    {%- if is_incremental() %}
    where ingested_at > {{ input_watermark('dossiers') }}
    {%- endif %}
),

resolved as (
    {{ resolve_commune_code('dossiers') }}
)

select
    *,
    case when current_commune_code is null then commune_code_resolution else 'placed' end as commune_placement,
    date_trunc('month', received_date)::date as received_month,
    status = 'resolved' as is_resolved,
    case when status = 'resolved' then date_trunc('month', returned_date)::date end as resolved_month,
    coalesce(status = 'resolved' and returned_date <= due_date, false) as is_resolved_on_time,
    -- open (counted in a backlog) from received until returned; cancelled dossiers never are (no cancellation date)
    status <> 'cancelled' as counts_in_backlog
from resolved
