-- wrk script: GET a random path from a file (one path per line), with a bearer token.
-- Usage: wrk ... http://127.0.0.1:PORT/ -- PATHS_FILE TOKEN

local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
end

local paths = {}

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      paths[#paths + 1] = line
    end
  end
  assert(#paths > 0, "no paths in " .. args[1])
  wrk.headers["Authorization"] = "Bearer " .. args[2]
  math.randomseed(os.time() * 100 + thread_id)
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
