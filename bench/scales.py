"""Bench-only sample sizes: `medium` (a tenth of the province) for quick iterations on the harness and fixes.

Importing this module registers them in `ingestion.sample_data.SCALES`; `python -m bench.scales --scale S --out DIR`
generates a landing zone at any registered scale.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ingestion import sample_data as sd

sd.SCALES.setdefault(
    "medium", sd.Scale(citizens=180_000, dossiers=500_000, health_visits=300_000, environment_readings=200_000)
)
NAMES = sorted(sd.SCALES)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=NAMES, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    counts = sd.generate(args.out, args.scale, args.seed)
    print(f"wrote sample extracts to {args.out}: " + ", ".join(f"{k} {v:,} rows" for k, v in counts.items()))
