"""Parallel API reads with a fresh token on two gunicorn workers (SQLite): none is a 500.

Each worker's first read of the token records its use (once a minute). That write used to
run in the GET's deferred read transaction and failed with "database is locked" whenever
the other worker committed its own in between (security review F3: 1 of 6 in 5 of 5 trials).
"""
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.integration.gunicorn_support import flask_command, gunicorn, issue_token

WORKERS = 2
OWNER = ("owner@parallel-reads.example", "parallel-reads-password")
TRIALS, PARALLEL = 5, 6


def test_parallel_reads_with_a_fresh_token_never_fail(tmp_path):
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RATELIMIT_", "FLASK_", "HUEY_")) and k not in ("REDIS_URL", "SECRET_KEY")}
    env.update(DATABASE_URL=f"sqlite:///{instance / 'trellis.db'}", TRELLIS_INSTANCE=str(instance),
               PYTHONUNBUFFERED="1")
    flask_command(env, "db", "upgrade")
    flask_command(env, "create-business", "Parallel Reads Co", "--email", OWNER[0], "--password", OWNER[1])

    with gunicorn(env, tmp_path, WORKERS) as (base_url, _server, _log):
        statuses: Counter = Counter()
        for _ in range(TRIALS):
            token = issue_token(base_url, *OWNER)  # fresh: its first reads each record its use

            def read(_, token=token):
                return requests.get(f"{base_url}/api/v1/locations", timeout=30,
                                    headers={"Authorization": f"Bearer {token}", "Connection": "close"})

            with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
                answers = list(pool.map(read, range(PARALLEL)))
            statuses.update(answer.status_code for answer in answers)
            assert all(a.status_code == 200 for a in answers), [a.text for a in answers if a.status_code != 200]
        assert statuses == {200: TRIALS * PARALLEL}
