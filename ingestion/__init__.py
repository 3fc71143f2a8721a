"""Departmental extracts → Delta Lake (bronze, silver, quarantine)."""
