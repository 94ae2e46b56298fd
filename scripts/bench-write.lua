-- wrk script of scripts/bench-server.sh: conditional writes as clients make them. Each wrk
-- thread has one connection and its own job, so writers never conflict; it alternates a read
-- (for the current version) and a write conditional on that version.
--
--   BENCH_MODE=server  GET the job's secrets, then PUT them with If-Match: <ETag>
--   BENCH_MODE=vault   GET the KV v2 entry, then POST it with {"options":{"cas":<version>}}
--   BENCH_BODY         the secrets (server) or the KV v2 record under "data" (vault), as JSON
--
-- Run with as many threads as connections (-t N -c N). done() prints the writes per second
-- and any writes refused as conflicts or failed otherwise.

local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("id", counter)
   table.insert(threads, thread)
end

function init(args)
   mode = os.getenv("BENCH_MODE")
   body = os.getenv("BENCH_BODY")
   if mode == "server" then
      path = "/data-jobs/for-team/bench/jobs/writer-" .. id .. "/deployments/TODO/secrets"
   else
      path = "/v1/secret/data/bench-direct/writer-" .. id
   end
   version, writing = nil, false
   writes, conflicts, failures = 0, 0, 0
end

-- A copy of the command line's headers (the token) plus `extra`.
local function headers(extra)
   local all = {}
   for name, value in pairs(wrk.headers) do all[name] = value end
   for name, value in pairs(extra or {}) do all[name] = value end
   return all
end

function request()
   if version == nil then
      return wrk.format("GET", path, headers())
   end
   local current = version
   version = nil
   if mode == "server" then
      return wrk.format("PUT", path,
         headers({["If-Match"] = current, ["Content-Type"] = "application/json"}), body)
   end
   return wrk.format("POST", path, headers({["Content-Type"] = "application/json"}),
      '{"options":{"cas":' .. current .. '},"data":' .. body .. '}')
end

function response(status, headers, body)
   if writing then
      writing = false
      if status == 200 or status == 204 then
         writes = writes + 1
      elseif status == 412 or (status == 400 and body:find("check-and-set", 1, true)) then
         conflicts = conflicts + 1
      else
         failures = failures + 1
      end
      return
   end
   if mode == "server" then
      version = headers["etag"] or headers["ETag"]
   elseif status == 404 then
      version = "0"
   else
      version = body:match('"version":(%d+)')
   end
   if version == nil then
      failures = failures + 1
   else
      writing = true
   end
end

function done(summary, latency, requests)
   local total = { writes = 0, conflicts = 0, failures = 0 }
   for _, thread in ipairs(threads) do
      for name, _ in pairs(total) do
         total[name] = total[name] + thread:get(name)
      end
   end
   io.write(string.format("Writes/sec: %.2f\n", total.writes / (summary.duration / 1e6)))
   io.write(string.format("Write conflicts: %d\nWrite failures: %d\n", total.conflicts,
      total.failures))
end
