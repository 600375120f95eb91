-- The one wrk script of bench/run.sh, configured from the environment so that every scenario
-- (sendcloudd, the ceiling, Kannel) runs with exactly the same wrk settings:
--   BENCH_METHOD     GET (default) or POST
--   BENCH_BODY_FILE  file whose content is the request body (POST)
--   BENCH_CTYPE      Content-Type of the body
--   BENCH_RATE       when set, paces the load to about this many requests/s in total: each
--                    connection waits BENCH_DELAY_MS (computed by run.sh) between its requests.
--                    wrk still measures latency from when a request is written, so this is
--                    "latency at a given offered load", not wrk2's coordinated-omission-corrected
--                    latency (wrk2 is not packaged in Debian).
--   BENCH_OUT        file to which done() writes one line of key=value results
--   BENCH_DISTINCT_CLIENTS  when 1, every request carries a User-Agent of its own, so that no
--                    two authentication attempts are alike (the auth log's worst case; costs wrk
--                    a Lua call per request)
wrk.method = os.getenv("BENCH_METHOD") or "GET"

local bodyFile = os.getenv("BENCH_BODY_FILE")
if bodyFile and bodyFile ~= "" then
   local f = assert(io.open(bodyFile, "rb"))
   wrk.body = f:read("*a")
   f:close()
end
local ctype = os.getenv("BENCH_CTYPE")
if ctype and ctype ~= "" then
   wrk.headers["Content-Type"] = ctype
end
wrk.headers["User-Agent"] = "wrk-bench"

if os.getenv("BENCH_DISTINCT_CLIENTS") == "1" then
   local threads = 0
   function setup(thread)
      threads = threads + 1
      thread:set("agentPrefix", "wrk-bench-" .. threads .. "-")
   end
   local sent = 0
   function request()
      sent = sent + 1
      wrk.headers["User-Agent"] = agentPrefix .. sent
      return wrk.format()
   end
end

local delayMs = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if delayMs and delayMs > 0 then
   -- wrk timers have 1 ms resolution: dither between floor and ceil to hit the mean.
   local base = math.floor(delayMs)
   local frac = delayMs - base
   function delay()
      if math.random() < frac then
         return base + 1
      end
      return base
   end
end

function done(summary, latency, requests)
   local out = os.getenv("BENCH_OUT")
   local secs = summary.duration / 1e6
   local e = summary.errors
   local line = string.format(
      "requests=%d duration_s=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f " ..
      "err_connect=%d err_read=%d err_write=%d err_timeout=%d status_ge_400=%d",
      summary.requests, secs, summary.requests / secs,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      latency.mean, e.connect, e.read, e.write, e.timeout, e.status)
   if out and out ~= "" then
      local f = assert(io.open(out, "w"))
      f:write(line, "\n")
      f:close()
   else
      io.write(line, "\n")
   end
end
