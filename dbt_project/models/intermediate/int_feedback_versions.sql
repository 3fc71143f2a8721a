-- Every version of every citizen field report silver has held (feedback is upserted: a corrected report replaces
-- the old row by report_id, so the month it was in is gone from silver), for the marts to find the periods a
-- correction leaves as well as the ones it enters (macros/mart_periods.sql). No personal data.
-- Append-only on ingest time; rebuilt whole (history lost, so the marts reading it are too) when silver feedback
-- is rewritten or rows are deleted in place.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['report_id', 'ingested_at'],
    pre_hook=[
        before_begin("{{ forget_stale_build(model_fingerprint([silver_rewrites(['feedback'])])) }}"),
        "{{ forget_stale_rows() }}",
    ],
    post_hook=after_commit("{{ record_build(model_fingerprint([silver_rewrites(['feedback'])]),
        watermarks={'feedback': 'select max(ingested_at) from ' ~ this}) }}"),
) }}
select report_id, submitted_at, ingested_at
from {{ ref('stg_feedback') }}
{% if is_incremental() -%}
where ingested_at > (select coalesce(max(ingested_at), '-infinity'::timestamptz) from {{ this }})
{%- endif %}
