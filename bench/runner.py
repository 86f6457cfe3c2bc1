"""`python -m bench [--rows N] [--rounds N]`: run every benchmark, print a table, and exit
non-zero when a result is past its budget."""
import argparse
import gc
import re
import time
import tracemalloc
from dataclasses import dataclass
from urllib.parse import quote

from bench.harness import Bench, build, capture_sql, compare, fetch
from bench.limits_bench import limit_storage_results

BASELINE = "/api/v1/me"


@dataclass
class Result:
    name: str
    value: str
    budget: str
    ok: bool
    detail: str = ""


def ratio_result(bench: Bench, name: str, url: str, budget: float, rounds: int, browser: bool = False) -> Result:
    client = bench.browser if browser else bench.app.test_client()
    headers = None if browser else bench.api_headers
    api = bench.app.test_client()
    target_s, ceiling_s = compare(lambda: fetch(client, url, headers), lambda: fetch(api, BASELINE, bench.api_headers),
                                  rounds)
    ratio = target_s / ceiling_s
    return Result(name, f"{ratio:.1f}x", f"<= {budget:g}x", ratio <= budget,
                  f"{target_s * 1000:.1f} ms vs {ceiling_s * 1000:.1f} ms for GET {BASELINE}")


def statement_count_result(bench: Bench, name: str, url: str, browser: bool = False) -> Result:
    client = bench.browser if browser else bench.app.test_client()
    headers = None if browser else bench.api_headers
    counts = {}
    for per_page in (10, 100):
        page_url = f"{url}{'&' if '?' in url else '?'}per_page={per_page}"
        fetch(client, page_url, headers)  # one-off writes (last-used stamps) happen here
        with capture_sql(bench.app) as capture:
            fetch(client, page_url, headers)
        counts[per_page] = capture.count
    return Result(name, f"{counts[10]} / {counts[100]}", "equal", counts[10] == counts[100],
                  "SQL statements at per_page=10 / per_page=100")


def csv_memory_result(bench: Bench, budget: float) -> Result:
    """Peak Python memory of a CSV export of every row, over that of a fifth of them.

    The export streams in batches of 500 (`yield_per`), so memory should level off after
    a couple of batches: the fifth (1,000 rows at the default size) is already past that,
    and exporting 5 times more must not cost 5 times the memory.
    """
    client = bench.app.test_client()

    def drain(url: str) -> int:
        """Read the answer chunk by chunk, as a WSGI server sends it, keeping none."""
        lines = 0
        with client.get(url, headers=bench.api_headers, buffered=False) as response:
            assert response.status_code == 200, response.status_code
            for chunk in response.iter_encoded():
                lines += chunk.count(b"\n")
        return lines - 1

    def peak(url: str) -> tuple[int, int]:
        drain(url)  # warm caches outside the measurement
        gc.collect()
        tracemalloc.start()
        try:
            rows = drain(url)
            return tracemalloc.get_traced_memory()[1], rows
        finally:
            tracemalloc.stop()

    fifth = ",".join(f"City {n}" for n in range(10))  # rows have 50 cities, evenly
    all_peak, all_rows = peak("/api/v1/locations?format=csv")
    part_peak, part_rows = peak(f"/api/v1/locations?format=csv&filter[city]={quote(fifth)}")
    ratio = all_peak / part_peak
    return Result("memory: CSV export, all rows / a fifth", f"{ratio:.2f}x", f"<= {budget:g}x", ratio <= budget,
                  f"peak {all_peak / 1024:.0f} KiB for {all_rows:,} rows vs {part_peak / 1024:.0f} KiB "
                  f"for {part_rows:,}")


def export_job_result(bench: Bench, budget: float, rounds: int) -> Result:
    """An export job writing every contact of the business to its file, over a raw cursor
    writing the same rows (every column, no ORM) with csv.writer: what the job adds per
    row (ORM objects, tags, custom-field columns, the formula guard, progress updates)."""
    import csv
    import tempfile

    from sqlalchemy import select, text

    from app.core.tenancy import tenant_scope
    from app.extensions import db
    from app.pipelines import exports
    from app.pipelines.models import ExportJob
    from app.team.models import User
    from bench.harness import OWNER_EMAIL

    app = bench.app
    with app.app_context():
        owner_id = db.session.scalar(select(User.id).where(User.email == OWNER_EMAIL)
                                     .execution_options(all_tenants=True))
    outcome = {}

    def job() -> None:
        with app.app_context():
            with tenant_scope(bench.business_id):
                export = ExportJob(kind="contacts", layout="list", params={}, created_by_id=owner_id)
                db.session.add(export)
                db.session.commit()
                export_id = export.id
            db.session.rollback()  # end this session's read; the job commits on a session of its own
            exports.run_export.call_local(export_id, business_id=bench.business_id)
            with tenant_scope(bench.business_id):
                done = db.session.get(ExportJob, export_id)
                outcome.update(status=done.status, rows=done.rows_done, error=done.error)

    def raw_cursor() -> None:
        with app.app_context(), db.engine.connect() as conn, tempfile.TemporaryFile("w+", newline="") as file:
            result = conn.execution_options(yield_per=500).execute(
                text("SELECT * FROM contacts WHERE business_id = :b ORDER BY last_name, id"), {"b": bench.business_id})
            writer = csv.writer(file)
            writer.writerow(result.keys())
            for row in result:
                writer.writerow(row)

    job_s, raw_s = compare(job, raw_cursor, rounds, warmup=1)
    if outcome.get("status") != "completed":
        return Result("export job: all contacts / raw cursor", "?", f"<= {budget:g}x", False, str(outcome))
    ratio = job_s / raw_s
    return Result("export job: all contacts / raw cursor", f"{ratio:.1f}x", f"<= {budget:g}x", ratio <= budget,
                  f"{job_s * 1000:.0f} ms for {outcome['rows']:,} rows vs {raw_s * 1000:.0f} ms (SELECT * -> csv.writer)")


def plan_result(bench: Bench) -> Result:
    """EXPLAIN the list query the API really runs, with its real parameters."""
    from app.extensions import db

    with capture_sql(bench.app) as capture:
        fetch(bench.app.test_client(), "/api/v1/locations?per_page=100", bench.api_headers)
    selects = [(sql, params) for sql, params in capture.statements
               if "FROM locations" in sql and "ORDER BY" in sql and "count(" not in sql.lower()]
    if len(selects) != 1:
        return Result("plan: locations list, default sort", "?", "index", False,
                      f"expected one list SELECT, saw {len(selects)}")
    sql, params = selects[0]
    prefix = "EXPLAIN QUERY PLAN " if bench.dialect == "sqlite" else "EXPLAIN "
    with bench.app.app_context():
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(prefix + sql, params)
            rows = cursor.fetchall()
        finally:
            raw.close()
    lines = [row[-1] for row in rows] if bench.dialect == "sqlite" else [row[0].strip() for row in rows]
    plan = " | ".join(lines)
    uses_index = "ix_locations_business_id_name" in plan
    # SQLite keeps the rowid (our id tie-breaker) in every index, so no sort step at all;
    # PostgreSQL may finish the (name, id) order with an incremental sort on top of the index.
    full_sort = "USE TEMP B-TREE FOR ORDER BY" in plan or any(re.match(r"(->\s+)?Sort\s+\(", line) for line in lines)
    verdict = "full sort" if full_sort else "index" if uses_index else "NO INDEX"
    return Result("plan: locations list, default sort", verdict, "ix_..._business_id_name", verdict == "index", plan)


def search_plan_result(bench: Bench) -> Result:
    """EXPLAIN the contact search the API runs: the full-text index, not a LIKE scan."""
    from app.extensions import db

    with capture_sql(bench.app) as capture:
        fetch(bench.app.test_client(), "/api/v1/contacts?q=person00042&per_page=100", bench.api_headers)
    selects = [(sql, params) for sql, params in capture.statements
               if "FROM contacts" in sql and "ORDER BY" in sql and "count(" not in sql.lower()]
    if not selects:
        return Result("plan: contact search", "?", "full-text index", False, "no contact list SELECT seen")
    sql, params = selects[0]
    prefix = "EXPLAIN QUERY PLAN " if bench.dialect == "sqlite" else "EXPLAIN "
    with bench.app.app_context():
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(prefix + sql, params)
            rows = cursor.fetchall()
        finally:
            raw.close()
    plan = " | ".join(str(row[-1]) if bench.dialect == "sqlite" else str(row[0]).strip() for row in rows)
    uses_fts = ("VIRTUAL TABLE INDEX" in plan and "search_contacts" in plan) if bench.dialect == "sqlite" \
        else "ix_search_contacts" in plan
    return Result("plan: contact search (q=)", "fts" if uses_fts else "NO FTS", "full-text index", uses_fts, plan)


def run(bench: Bench, rounds: int) -> list[Result]:
    return [
        ratio_result(bench, "api: GET /api/v1/locations?per_page=100", "/api/v1/locations?per_page=100",
                     budget=8, rounds=rounds),
        ratio_result(bench, "api: same, last page (offset 4,900)", "/api/v1/locations?per_page=100&page=50",
                     budget=10, rounds=rounds),
        ratio_result(bench, "html: GET /team/locations/?q=city 1", "/team/locations/?q=city+1&per_page=100",
                     budget=15, rounds=rounds, browser=True),
        statement_count_result(bench, "sql: GET /api/v1/locations", "/api/v1/locations?sort=-city"),
        statement_count_result(bench, "sql: GET /team/locations/", "/team/locations/?q=loc", browser=True),
        csv_memory_result(bench, budget=1.5),
        plan_result(bench),
        ratio_result(bench, "html: board, 500 deals in a column", "/pipelines/board", budget=25, rounds=rounds,
                     browser=True),
        ratio_result(bench, "api: GET /api/v1/contacts?q=person00042", "/api/v1/contacts?q=person00042",
                     budget=8, rounds=rounds),
        ratio_result(bench, "html: GET /pipelines/contacts/?q=family12", "/pipelines/contacts/?q=family12",
                     budget=20, rounds=rounds, browser=True),
        statement_count_result(bench, "sql: GET /api/v1/contacts", "/api/v1/contacts?sort=-created_at"),
        statement_count_result(bench, "sql: GET /api/v1/deals", "/api/v1/deals?sort=-created_at"),
        search_plan_result(bench),
        *limit_storage_results(bench, rounds, Result),
        export_job_result(bench, budget=40, rounds=max(3, rounds // 10)),
    ]


def print_table(results: list[Result], header: str) -> None:
    print(header)
    width = max(len(r.name) for r in results)
    print(f"{'benchmark':<{width}}  {'value':>9}  {'budget':<24} result")
    print("-" * (width + 46))
    for r in results:
        print(f"{r.name:<{width}}  {r.value:>9}  {r.budget:<24} {'ok' if r.ok else 'FAIL'}")
        if r.detail:
            print(f"{'':<{width}}    {r.detail}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rows", type=int, default=5000, help="locations per business (two businesses)")
    parser.add_argument("--rounds", type=int, default=30, help="timed requests per side of each ratio")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    bench = build(args.rows)
    try:
        setup_s = time.perf_counter() - started
        results = run(bench, args.rounds)
    finally:
        bench.close()
    header = (f"Trellis bench on {bench.dialect}, {args.rows:,} locations in each of 2 businesses, "
              f"{args.rounds} rounds (set-up {setup_s:.1f} s, total {time.perf_counter() - started:.1f} s)")
    print_table(results, header)
    failed = [r.name for r in results if not r.ok]
    if failed:
        print(f"\n{len(failed)} over budget: {', '.join(failed)}")
        return 1
    print("\nall within budget")
    return 0
