-- wrk script: POST a random JSON body from a file (one body a line) to one
-- path, with a bearer token and a fresh Idempotency-Key on every request.
-- Usage: wrk ... http://127.0.0.1:PORT/ -- PATH TOKEN BODIES_FILE

local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
end

local bodies = {}
local path
local token
local sent = 0
local run_id

function init(args)
  path = args[1]
  token = "Bearer " .. args[2]
  for line in io.lines(args[3]) do
    if #line > 0 then
      bodies[#bodies + 1] = line
    end
  end
  assert(#bodies > 0, "no bodies in " .. args[3])
  math.randomseed(os.time() * 100 + thread_id)
  run_id = os.time() .. "-" .. math.random(1000000000)
end

function request()
  sent = sent + 1
  local headers = {
    ["Authorization"] = token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "bench-" .. run_id .. "-" .. thread_id .. "-" .. sent,
  }
  return wrk.format("POST", path, headers, bodies[math.random(#bodies)])
end
