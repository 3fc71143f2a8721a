-- Agencies that handle public-service dossiers.
select agency_code, agency_name, agency_type
from {{ ref('ref_agencies') }}
