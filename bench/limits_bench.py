"""What the SQLite rate-limit storage (the default without Redis) costs, against `memory://`.

Both sides run in this process, measured alternately by `compare()`:

- per hit: what one limited request asks of the storage (the fixed window's hit, then the
  remaining count and reset time for the X-RateLimit headers), in batches of HITS so each
  timing is well above the clock's resolution;
- per request: GET /api/v1/me with the app's limiter on each storage in turn.
"""
import tempfile
from pathlib import Path

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from app.core.sqlite_limits import SqliteLimitStorage
from bench.harness import Bench, compare, fetch

HITS = 100
KEYS = 50  # buckets touched in turn, like a few dozen active clients
UNREACHABLE = RateLimitItemPerMinute(10**9)


def _hits(limiter: FixedWindowRateLimiter):
    def run() -> None:
        for n in range(HITS):
            key = f"ip:192.0.2.{n % KEYS}"
            limiter.hit(UNREACHABLE, "bench", key)
            limiter.get_window_stats(UNREACHABLE, "bench", key)

    return run


def limit_storage_results(bench: Bench, rounds: int, result_type) -> list:
    from app.extensions import limiter as app_limiter

    with tempfile.TemporaryDirectory(prefix="trellis-bench-limits-") as tmp:
        sqlite = SqliteLimitStorage(f"trellis+sqlite:///{Path(tmp) / 'ratelimits.db'}")
        memory = MemoryStorage()
        sqlite_limiter, memory_limiter = FixedWindowRateLimiter(sqlite), FixedWindowRateLimiter(memory)
        sqlite_s, memory_s = compare(_hits(sqlite_limiter), _hits(memory_limiter), rounds)
        per_hit = sqlite_s / memory_s

        saved = app_limiter._storage, app_limiter._limiter
        client = bench.app.test_client()

        def request_on(storage, limiter):
            def run() -> None:
                app_limiter._storage, app_limiter._limiter = storage, limiter
                fetch(client, "/api/v1/me", bench.api_headers)

            return run

        try:
            with_sqlite_s, with_memory_s = compare(request_on(sqlite, sqlite_limiter),
                                                   request_on(memory, memory_limiter), rounds)
        finally:
            app_limiter._storage, app_limiter._limiter = saved
        per_request = with_sqlite_s / with_memory_s
        memory.timer.cancel()

    return [
        result_type("limits: one hit, sqlite / memory://", f"{per_hit:.0f}x", "<= 100x", per_hit <= 100,
                    f"{sqlite_s / HITS * 1e6:.0f} µs vs {memory_s / HITS * 1e6:.1f} µs per hit "
                    f"(incr + remaining + reset)"),
        result_type("limits: GET /api/v1/me, sqlite / memory://", f"{per_request:.2f}x", "<= 1.5x",
                    per_request <= 1.5,
                    f"{with_sqlite_s * 1000:.2f} ms vs {with_memory_s * 1000:.2f} ms per request"),
    ]
