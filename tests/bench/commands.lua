-- commands.lua: wrk script for msgcmd.  MODE=create sends only creates;
-- MODE=mix cycles 1 create : 2 add-participant : 20 send-message on the
-- conversation the thread created last.  TOKEN is a bearer token.
-- IDEM=1 gives every request an Idempotency-Key of its own; DELAY_MS
-- makes each connection wait that long between requests (a set load).
local token = os.getenv("TOKEN")
local mode = os.getenv("MODE") or "create"
local idem = os.getenv("IDEM") == "1"
local delay_ms = tonumber(os.getenv("DELAY_MS") or "0")
local prefix = nil

-- Runs in wrk's main state: each thread gets a number (the global tid),
-- so that the threads' keys differ.
local threads = 0
setup = function(thread)
   threads = threads + 1
   thread:set("tid", threads)
end
local conv = nil
local step = 0
local counter = 0

local create_body = '{"name":"bench"}'
local headers = { ["Authorization"] = "Bearer " .. token,
                  ["Content-Type"] = "application/json" }

if delay_ms > 0 then
   delay = function() return delay_ms end
end

-- post PATH BODY: one request, with its own Idempotency-Key under IDEM=1.
local function post(path, body)
   if idem then
      prefix = prefix or string.format("%d-%d", os.time(), tid or 0)
      headers["Idempotency-Key"] = prefix .. "-" .. counter .. "-" .. math.random(1e9)
   end
   return wrk.format("POST", path, headers, body)
end

request = function()
   counter = counter + 1
   if mode == "create" or conv == nil then
      return post("/conversations/", create_body)
   end
   step = (step + 1) % 23
   if step == 0 then
      return post("/conversations/", create_body)
   elseif step <= 2 then
      return post("/conversations/" .. conv .. "/members",
         '{"participant_id":"p' .. counter .. '-' .. math.random(1e9) .. '"}')
   end
   return post("/conversations/" .. conv,
      '{"message_content":"hello ' .. counter .. '"}')
end

local non201 = 0
response = function(status, hdrs, body)
   if status ~= 201 then
      non201 = non201 + 1
      return
   end
   local id = body:match('^{"id":"([0-9a-f-]+)","name"')
   if id then conv = id end
end

done = function(summary, latency, requests)
   local errs = summary.errors
   io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f non2xx=%d errors=%d\n",
      summary.requests / (summary.duration / 1e6),
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      errs.status, errs.connect + errs.read + errs.write + errs.timeout))
end
