"""Wall time and cases per second of the conformance suite, per backend env.

Read from the results files of the last run (``reports/results/<env>.json``): each records
when its run started and finished and how many cases it judged, so the numbers are those of
the real run, not of a re-run inside the benchmark. Target (from the conformance issue): the
ci profile of one backend env finishes in under 3 minutes.
"""

from __future__ import annotations

import json
from datetime import datetime

from benchmarks import BenchmarkUnavailable, Metric, print_table, write_results

MAX_ENV_SECONDS = 180.0


def run(small: bool = False, repeat: int = 1) -> list[Metric]:
    from conformance.results import RESULTS_DIR

    files = sorted(RESULTS_DIR.glob("*.json"))
    if not files:
        raise BenchmarkUnavailable(f"no results in {RESULTS_DIR}: run a backend env first")
    metrics, per_env = [], {}
    for path in files:
        document = json.loads(path.read_text())
        environment = document["environment"]
        if not environment.get("finished"):
            continue
        seconds = (datetime.fromisoformat(environment["finished"])
                   - datetime.fromisoformat(environment["started"])).total_seconds()
        cases = sum(row["cases"] for row in document["summary"])
        env = document["env"]
        per_env[env] = {"seconds": seconds, "cases": cases,
                        "profile": environment["hypothesis_profile"]}
        metrics.append(Metric(f"{env}: wall time ({environment['hypothesis_profile']})",
                              seconds, "s", MAX_ENV_SECONDS))
        metrics.append(Metric(f"{env}: cases per second", cases / max(seconds, 1e-9), "1/s"))
    print_table("suite_speed: the conformance suite per backend env", metrics)
    write_results("suite_speed", {"envs": per_env}, metrics)
    return metrics
