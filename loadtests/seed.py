"""Seed N synthetic members (and known staff) into the database LOYALTY_DATABASE_URL names.

    python loadtests/seed.py 10000          # same as `loyalty seed members --count 10000`

The load test and the benchmark import card_number_for/email_for from here to address the
seeded members without reading the database.
"""

import sys

from loyalty.cli.seed_cmd import (  # noqa: F401  (re-exported for locustfile and benchmarks)
    SEED_MEMBER_PASSWORD,
    SEED_STAFF_PASSWORD,
    app,
    card_number_for,
    email_for,
    seed_members,
    seed_staff,
)

if __name__ == "__main__":
    count = sys.argv[1] if len(sys.argv) > 1 else "1000"
    app(["members", "--count", count, *sys.argv[2:]])
