-- Non-streaming OpenAI chat completion, the gateway's main path.
-- BENCH_MODEL overrides the model name; BENCH_HEADERS adds request headers
-- ("name: value" pairs separated by "|"), e.g. an Authorization header.
wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
local model = os.getenv("BENCH_MODEL") or "gpt-4o-mini"
wrk.body = '{"model":"' .. model .. '","messages":[{"role":"system","content":"You are terse."},' ..
           '{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":32}'
for pair in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^|]+") do
  local name, value = string.match(pair, "^%s*([^:]+):%s*(.-)%s*$")
  if name then wrk.headers[name] = value end
end
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
