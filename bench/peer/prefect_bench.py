"""Measurement 6: the same chain and fan-out of no-op steps in Prefect 3, run locally.

Ephemeral mode: no Prefect server is started by hand; Prefect runs its own temporary API server
on loopback with SQLite under PREFECT_HOME. Chain: tasks called one after another in the flow.
Fan-out: task.map over a ThreadPoolTaskRunner with max_workers = the parallelism.
Prints one JSON line with the wall times (seconds) of the warm-up and measured runs.
"""
import json
import sys
import time

from prefect import flow, task
from prefect.task_runners import ThreadPoolTaskRunner

CHAIN, FANOUT, PARALLELISM, RUNS = (int(a) for a in sys.argv[1:5])


@task
def noop(i, previous=None):
    return {}


@flow(name="bench-chain")
def chain(n):
    previous = None
    for i in range(n):
        previous = noop(i, previous)


@flow(name="bench-fanout", task_runner=ThreadPoolTaskRunner(max_workers=PARALLELISM))
def fanout(n):
    noop.map(range(n)).result()


def timed(fn, n):
    started = time.perf_counter()
    fn(n)
    return time.perf_counter() - started


def main():
    results = {"chain": [], "fanout": []}
    warmup = {"chain": timed(chain, CHAIN), "fanout": timed(fanout, FANOUT)}
    print(f"prefect warm-up: chain {warmup['chain']:.2f} s, fan-out {warmup['fanout']:.2f} s", file=sys.stderr, flush=True)
    for i in range(RUNS):
        results["chain"].append(timed(chain, CHAIN))
        results["fanout"].append(timed(fanout, FANOUT))
        print(f"prefect run {i + 1}/{RUNS}: chain {results['chain'][-1]:.2f} s, fan-out {results['fanout'][-1]:.2f} s", file=sys.stderr, flush=True)
    print(json.dumps({"warmup": warmup, **results}), flush=True)


if __name__ == "__main__":
    main()
