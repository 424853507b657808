-- Raw POST /v1/events throughput (docs/design.md §6) with wrk: valid notifications round-robin over
-- the events listed in EVENTS, every status code counted.
--   EVENTS=id1,id2 KEY=apikey wrk -t1 -c64 -d10s -s scripts/wrk-notify.lua http://127.0.0.1:PORT/v1/events
-- wrk prints "Non-2xx or 3xx responses: N" when some were not 2xx; done() below prints every status
-- code with its count, and how many answers were not the expected 204.

local events = {}
for id in string.gmatch(os.getenv("EVENTS") or "", "[^,%s]+") do
  events[#events + 1] = id
end
if #events == 0 then
  error("EVENTS must list event ids, comma-separated (EVENTS=id1,id2)")
end

local key = os.getenv("KEY")
if key == nil or key == "" then
  error("KEY must be an API key (pulse api-key create)")
end

local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. key,
}

-- Each wrk thread runs its own copy of this script; the main one collects their counts in done().
local threads = {}

function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end

local sequence = 0
statuses = {}

function init(args)
  -- Threads start at different events, so -t2 does not POST the same event in step.
  sequence = offset or 0
end

function request()
  sequence = sequence + 1
  local id = events[(sequence % #events) + 1]
  local body = string.format('{"topic":"event:%s","event":"wrk-%d","payload":{"event_id":"%s"}}', id, sequence, id)
  return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses") or {}) do
      total[status] = (total[status] or 0) + count
    end
  end

  local codes = {}
  for status in pairs(total) do
    codes[#codes + 1] = status
  end
  table.sort(codes)
  local not204 = 0
  io.write("Status codes:\n")
  for _, status in ipairs(codes) do
    io.write(string.format("  %d: %d\n", status, total[status]))
    if status ~= 204 then
      not204 = not204 + total[status]
    end
  end
  io.write(string.format("Not 204: %d; socket errors: connect %d, read %d, write %d, timeout %d\n",
    not204, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
