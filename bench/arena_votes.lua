-- arena_votes.lua: POST /vote for wrk (run_arena_bench.sh). The models come after `--` on wrk's command
-- line (three of them); the requests go round every ordered pair of them and every result (modelA wins,
-- modelB wins, draw), so concurrent votes share model rows as real traffic does. Each thread starts at
-- another point of the round.
--   wrk -t2 -c64 -d20s -s bench/arena_votes.lua http://127.0.0.1:PORT -- model-1 model-2 model-3

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "wrk_summary.lua")

local threads = 0

-- In wrk's main state, once per thread before it starts.
function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
end

local requests = {}
local next_request = 0

-- In each thread's own state.
function init(args)
  local models = args
  assert(#models >= 2, "arena_votes.lua: name at least two models after --")
  local headers = { ["Content-Type"] = "application/json" }
  for a = 1, #models do
    for b = 1, #models do
      if a ~= b then
        for _, result in ipairs({ models[a], models[b], "draw" }) do
          local body = string.format('{"modelA":"%s","modelB":"%s","result":"%s"}',
                                     models[a], models[b], result)
          requests[#requests + 1] = wrk.format("POST", "/vote", headers, body)
        end
      end
    end
  end
  -- `offset` is the global setup() gave this thread.
  next_request = (offset or 0) * 7 % #requests
end

function request()
  next_request = next_request % #requests + 1
  return requests[next_request]
end
