-- One wrk script for every scenario; TODO_BENCH_SCENARIO picks it:
--   get_one, list, create, complete, mix (80 % reads / 20 % creates)
package.path = os.getenv("TODO_BENCH_DIR") .. "/?.lua;" .. package.path
local common = require("common")

local scenario = os.getenv("TODO_BENCH_SCENARIO")
local rows = common.load_seed()
local counter = 0
local thread_index = 0

function setup(thread)
  thread:set("thread_index", thread_index)
  thread_index = thread_index + 1
end

function init(args)
  counter = (tonumber(thread_index) or 0) * 7919
end

local function auth_headers(row, extra)
  local h = {["Authorization"] = "Bearer " .. row.token}
  if extra then for k, v in pairs(extra) do h[k] = v end end
  return h
end

local create_body = '{"title":"Benchmark task","priority":"high","tags":["bench","load"],' ..
                    '"due_date":"2030-01-01T09:00:00Z","reminders":[15]}'

local function get_one(row) return wrk.format("GET", "/api/tasks/" .. row.id, auth_headers(row)) end
local function list(row) return wrk.format("GET", "/api/tasks?limit=50", auth_headers(row)) end
local function create(row)
  return wrk.format("POST", "/api/tasks", auth_headers(row, {["Content-Type"] = "application/json"}),
                    create_body)
end
-- Every request changes state: a task is completed on even rounds and reopened on odd ones.
local function complete(row, round)
  local action = (round % 2 == 0) and "/complete" or "/reopen"
  return wrk.format("POST", "/api/tasks/" .. row.id .. action, auth_headers(row))
end

function request()
  counter = counter + 1
  local row = rows[(counter % #rows) + 1]
  local round = math.floor(counter / #rows)
  if scenario == "get_one" then return get_one(row)
  elseif scenario == "list" then return list(row)
  elseif scenario == "create" then return create(row)
  elseif scenario == "complete" then return complete(row, round)
  elseif scenario == "mix" then
    local pick = counter % 10
    if pick < 2 then return create(row) elseif pick < 5 then return list(row) else return get_one(row) end
  end
  return wrk.format("GET", "/health")
end

-- No response() callback: wrk runs it in Lua for every response, on the cores the server needs;
-- wrk counts non-2xx answers itself. done() adds the 99.9th percentile, which --latency omits.
function done(summary, latency, requests)
  io.write(string.format("p99.9 %dus\n", latency:percentile(99.9)))
end
