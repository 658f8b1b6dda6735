-- Streamed OpenAI chat completion (SSE); each request ends when the stream
-- does. Same knobs as post.lua.
local dir = os.getenv("BENCH_LUA_DIR")
wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
local model = os.getenv("BENCH_MODEL") or "gpt-4o-mini"
wrk.body = '{"model":"' .. model .. '","messages":[{"role":"user","content":"Say hello."}],"stream":true}'
for pair in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^|]+") do
  local name, value = string.match(pair, "^%s*([^:]+):%s*(.-)%s*$")
  if name then wrk.headers[name] = value end
end
dofile(dir .. "/report.lua")
