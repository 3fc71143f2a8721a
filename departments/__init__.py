"""The loop back to departments: receipts and rejection reports in their outbox, alerts on the problems they have
to fix, and the data-quality page the province's leaders read."""
