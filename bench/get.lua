-- GET / on every keep-alive connection.
wrk.method = "GET"
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
