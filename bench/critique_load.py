#!/usr/bin/env python3
"""critique_load.py: POST /criticize_user_request at a fixed concurrency and report throughput and latency.

Each worker thread keeps one request in flight (a new prompt each time, so no answer is cached anywhere)
until --requests have been sent. Prints one Markdown table row:
  | mode | requests | failed | critiques/s | p50 ms | p99 ms | chain share | LLM share |
where the shares split the summed latency by the response's own chain_ms (sending, mining, the worker
noticing the prompt, the answer's mining) and the rest (the oracle's LLM call).
"""
import argparse
import json
import sys
import threading
import time
import urllib.error
import urllib.request


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, int(round(fraction * (len(ordered) - 1)))))
    return ordered[index]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--mode", default="instant mining")
    options = parser.parse_args()

    lock = threading.Lock()
    next_index = [0]
    latencies, chain_ms, total_ms, failures = [], [], [], []

    def worker():
        while True:
            with lock:
                if next_index[0] >= options.requests:
                    return
                index = next_index[0]
                next_index[0] += 1
            body = json.dumps({"prompt": f"Benchmark prompt {index}: summarise the causes of the French Revolution."})
            request = urllib.request.Request(options.url, data=body.encode(), method="POST",
                                             headers={"Content-Type": "application/json"})
            started = time.monotonic()
            try:
                with urllib.request.urlopen(request, timeout=120) as response:
                    answer = json.loads(response.read())
                elapsed = (time.monotonic() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    chain_ms.append(float(answer["chain_ms"]))
                    total_ms.append(float(answer["latency_ms"]))
            except (urllib.error.URLError, KeyError, ValueError) as error:
                with lock:
                    failures.append(str(error))

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(options.concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started

    chain_share = sum(chain_ms) / sum(total_ms) if total_ms else float("nan")
    print(f"| {options.mode} | {options.requests} | {len(failures)} | {len(latencies) / wall:.1f} | "
          f"{percentile(latencies, 0.5):.0f} | {percentile(latencies, 0.99):.0f} | {chain_share:.0%} | "
          f"{1 - chain_share:.0%} |")
    if failures:
        print("first failure: " + failures[0], file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
