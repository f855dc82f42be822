"""What recording costs: decisions per second in-process without recording, with every
record committed before route() returns, and batched; and the cost of verifying the
chain, per thousand records.

    .venv/bin/python benchmarks/bench_audit.py [--n 2000] [--batch 100] [--dir DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _contexts import CONTEXTS

from router import Router
from router.audit import SqliteAuditStore


def rate(router: Router, n: int) -> float:
    """Decisions per second over n routes (cycling through the contexts)."""
    start = time.perf_counter()
    for i in range(n):
        router.route(CONTEXTS[i % len(CONTEXTS)])
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="decisions per measurement")
    parser.add_argument("--batch", type=int, default=100, help="records per commit in batch mode")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the stores (default: a temp dir)")
    args = parser.parse_args()

    policy = Router.load().policy
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        where = Path(folder)
        plain = Router(policy)
        rate(plain, 200)  # warm up
        bare = rate(plain, args.n)

        each = SqliteAuditStore(where / "each.db")
        per_record = rate(Router(policy, each), args.n)
        each.close()

        batched_store = SqliteAuditStore(where / "batched.db", batch=args.batch)
        start = time.perf_counter()
        routed = Router(policy, batched_store)
        for i in range(args.n):
            routed.route(CONTEXTS[i % len(CONTEXTS)])
        batched_store.close()  # the last partial batch is part of the cost
        batched = args.n / (time.perf_counter() - start)

        verifying = SqliteAuditStore(where / "batched.db")
        start = time.perf_counter()
        report = verifying.verify()
        verify_s = time.perf_counter() - start
        verifying.close()
        assert report.ok and report.checked == args.n, report.message
        size_kb = (where / "batched.db").stat().st_size / 1024

    print(f"policy: {policy.name} {policy.version} ({len(policy.tools)} tools), {args.n} decisions each")
    print(f"without recording:                   {bare:9.0f} decisions/s")
    print(f"recording, each record committed:    {per_record:9.0f} decisions/s")
    print(f"recording, batched ({args.batch:>4} a commit):  {batched:9.0f} decisions/s")
    print(f"verify:                              {verify_s / report.checked * 1000 * 1000:9.1f} ms per 1000 records")
    print(f"store size:                          {size_kb / args.n:9.2f} KB per decision")


if __name__ == "__main__":
    main()
