#!/usr/bin/env bash
# Regenerate tests/data/metafor/pinned.json from scripts/metafor/pinned_cases.R.
# Needs R with metafor (Debian: apt-get install -y r-base-core r-cran-metafor), which brings jsonlite.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
command -v Rscript >/dev/null || { echo "regenerate.sh: Rscript not found (apt-get install r-base-core r-cran-metafor)" >&2; exit 1; }
Rscript scripts/metafor/pinned_cases.R tests/data/metafor/pinned.json
