"""Data-subject requests under the Personal Data Protection Law (91/2025/QH15): access, erasure, restriction."""
