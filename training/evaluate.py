"""Evaluate quotestance on the gold corpora and write reports/evaluation.md and metrics.json.

usage: python training/evaluate.py [--corpora SET ...] [--limit N] [--out reports/]
                                   [--system rules|regex] [--stance-gold FILE] [--no-baseline]
The logic lives in ``quotestance.evaluation.evaluate`` (also behind ``quotestance evaluate``).
"""

import sys

from quotestance.evaluation.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
