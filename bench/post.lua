-- Non-streaming OpenAI chat completion, the gateway's main path.
wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are terse."},' ..
           '{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":32}'
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
