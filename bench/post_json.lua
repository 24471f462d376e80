-- wrk script: POST one JSON body to a random path from a file, with a bearer
-- token and a fresh Idempotency-Key on every request (as real clients send).
-- Usage: wrk ... http://127.0.0.1:PORT/ -- PATHS_FILE TOKEN BODY_FILE

local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
end

local paths = {}
local body
local token
local sent = 0
local run_id

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      paths[#paths + 1] = line
    end
  end
  assert(#paths > 0, "no paths in " .. args[1])
  token = "Bearer " .. args[2]
  local f = assert(io.open(args[3], "r"))
  body = f:read("*a")
  f:close()
  math.randomseed(os.time() * 100 + thread_id)
  run_id = os.time() .. "-" .. math.random(1000000000)
end

function request()
  sent = sent + 1
  -- wrk.format replaces wrk.headers when given headers: name them all.
  local headers = {
    ["Authorization"] = token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "bench-" .. run_id .. "-" .. thread_id .. "-" .. sent,
  }
  return wrk.format("POST", paths[math.random(#paths)], headers, body)
end
