-- wrk_summary.lua: wrk's results as one line a script can read (run_arena_bench.sh), printed after wrk's
-- own report:
--   wrk-summary requests=N duration_us=N status_errors=N connect_errors=N read_errors=N write_errors=N
--   timeout_errors=N mean_us=N p50_us=N p99_us=N
-- status_errors counts responses with a status of 400 or more (wrk's "Non-2xx or 3xx responses").
-- Defining only done() keeps wrk's static request: every request is the one of the command line.

function done(summary, latency, _)
  local errors = summary.errors
  io.write(string.format(
    "wrk-summary requests=%d duration_us=%d status_errors=%d connect_errors=%d read_errors=%d " ..
    "write_errors=%d timeout_errors=%d mean_us=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, errors.status, errors.connect, errors.read, errors.write,
    errors.timeout, latency.mean, latency:percentile(50), latency:percentile(99)))
end
