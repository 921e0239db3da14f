-- wrk reporting hook for bench/run.sh.
--
-- Prints one "@bench key=value ..." line that the script parses, and, when
-- BENCH_SPECTRUM names a file, writes the latency percentile spectrum there
-- ("percentile latency_us" per line) for the latency plot.

local function spectrum(latency, path)
    local f = assert(io.open(path, "w"))
    local points = {}

    for p = 1, 99 do
        points[#points + 1] = p
    end

    for _, p in ipairs({ 99.5, 99.9, 99.95, 99.99, 99.999 }) do
        points[#points + 1] = p
    end

    f:write("# percentile latency_us\n")

    for _, p in ipairs(points) do
        f:write(string.format("%g %d\n", p, latency:percentile(p)))
    end

    f:write(string.format("100 %d\n", latency.max))
    f:close()
end


done = function(summary, latency, requests)
    local e = summary.errors
    local path = os.getenv("BENCH_SPECTRUM")

    io.write(string.format(
        "@bench requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d"
        .. " p99_us=%d p999_us=%d max_us=%d errors=%d non2xx=%d\n",
        summary.requests, summary.duration,
        summary.requests / (summary.duration / 1e6),
        latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency:percentile(99.9), latency.max,
        e.connect + e.read + e.write + e.timeout, e.status))

    if path and path ~= "" then
        spectrum(latency, path)
    end
end
