-- wrk script for bench/soak.sh: rotates the calls over the soak's
-- functions, checks each answer, and stops each thread after its share of
-- calls, so that a wrk run is a chunk of a known size rather than a time.
--
--   wrk -tT -cC -d600s -s bench/soak.lua http://127.0.0.1:PORT -- N FILE
--
-- N is the calls of each thread.  A thread that has its N creates FILE.ID
-- and stops; wrk itself still sleeps out -d, so soak.sh sends it SIGINT
-- once there is a FILE.ID for each thread.  The location sends the
-- function's name back in X-Fn (add_header ... always), so that an answer
-- is counted against the function that gave it whatever its status.  A
-- thread may count a few answers past N (those that arrive in the same
-- event-loop pass), and the calls still in flight when it stops are cut
-- off: at most -c of them a chunk.  done() prints
-- "@soak key=value ..." and one "@count FUNCTION WHAT N" line per status
-- (WHAT is the status, or "badbody" for a 200 without the expected text).

local threads = {}
local next_id = 0

function setup(thread)
    thread:set("id", next_id)
    next_id = next_id + 1
    table.insert(threads, thread)
end


-- name, method, body, text every 200 must contain; one turn is these in
-- order: the cheap ones more often, so that cold starts (churn, and
-- crash3 after each crash) do not make the whole of the time
local hello = { "hello",   "GET",  nil, "Hello, world!" }
local echo  = { "echo",    "POST", string.rep("x", 1024),
                "body-length: 1024" }
local py    = { "pyhello", "GET",  nil, "Hello, world!" }
local js    = { "jshello", "GET",  nil, "Hello, world!" }
local churn = { "churn",   "GET",  nil, "Hello, world!" }
local crash = { "crash3",  "GET",  nil, "ok " }

local calls = { hello, echo, py, hello, js, crash,
                hello, echo, py, hello, js, churn }

local requests = {}
local expect = {}
local target = 0
local marker = nil
local served = 0
local turn = 0
counts = {}


function init(args)
    target = tonumber(args[1]) or 1000
    marker = args[2]
    -- threads start the turn at different places
    turn = (id or 0) * 5

    -- built once: request() runs for every call
    for i, c in ipairs(calls) do
        requests[i] = wrk.format(c[2], "/?fn=" .. c[1], nil, c[3])
        expect[c[1]] = c[4]
    end
end


function request()
    turn = turn % #requests + 1
    return requests[turn]
end


function response(status, headers, body)
    local fn = headers["X-Fn"] or "?"
    local key = fn .. " " .. status

    counts[key] = (counts[key] or 0) + 1

    if status == 200 and expect[fn]
       and not string.find(body, expect[fn], 1, true)
    then
        key = fn .. " badbody"
        counts[key] = (counts[key] or 0) + 1
    end

    served = served + 1

    if served == target then
        if marker then
            io.open(marker .. "." .. (id or 0), "w"):close()
        end

        wrk.thread:stop()
    end
end


function done(summary, latency, requests)
    local e = summary.errors
    local total = {}

    io.write(string.format(
        "@soak requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d"
        .. " connect=%d read=%d write=%d timeout=%d\n",
        summary.requests, summary.duration, latency:percentile(50),
        latency:percentile(99), latency.max, e.connect, e.read, e.write,
        e.timeout))

    for _, t in ipairs(threads) do
        for k, n in pairs(t:get("counts")) do
            total[k] = (total[k] or 0) + n
        end
    end

    for k, n in pairs(total) do
        io.write(string.format("@count %s %d\n", k, n))
    end
end
