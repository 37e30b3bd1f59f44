-- Shared by the scenarios: reads the seed file run.py wrote (TODO_BENCH_SEED), one line per task:
-- "<access token> <task id>". Each connection sends requests as one user.
local M = {}

function M.load_seed()
  local path = os.getenv("TODO_BENCH_SEED")
  local rows = {}
  for line in io.lines(path) do
    local token, id = line:match("^(%S+) (%S+)$")
    if token then rows[#rows + 1] = {token = token, id = id} end
  end
  return rows
end

return M
