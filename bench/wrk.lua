-- Replays pre-signed requests (bench/events.py writes them, one a line: path TAB headers TAB body).
-- Each wrk thread takes every Nth line and sends each once (no accidental duplicates); once they are all
-- out, its connections ask for a cheap 404 until every thread has all its answers (each writes a marker
-- file) and bench/run.py stops wrk with SIGINT (wrk has no "N requests" mode). Prints one BENCH_RESULT JSON line at the end.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local requests, count, sent, answered, idle = {}, 0, 0, 0, 0
accepted, duplicates, failed = 0, 0, 0

function init(args)
  local file = os.getenv("BENCH_REQUESTS")
  local nthreads = tonumber(os.getenv("BENCH_THREADS"))
  local line_no = 0
  verifying = (id == 0)
  for line in io.lines(file) do
    if line_no % nthreads == id then
      local path, header_text, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = { ["Content-Type"] = "application/json" }
      for name, value in header_text:gmatch("([^|:]+): ([^|]*)") do
        headers[name] = value
      end
      count = count + 1
      requests[count] = wrk.format("POST", path, headers, body)
    end
    line_no = line_no + 1
  end
end

function request()
  if verifying then
    -- wrk calls thread 0's request() once before the run to check the script: give it a throwaway.
    verifying = false
    return wrk.format("GET", "/bench-idle/")
  end
  sent = sent + 1
  if sent > count then
    -- Every request is out; idle connections ask for a cheap 404 until the last answers arrive.
    return wrk.format("GET", "/bench-idle/")
  end
  return requests[sent]
end

function response(status, headers, body)
  if status == 404 then
    return
  end
  answered = answered + 1
  if status == 200 then
    if body:find('"duplicate"', 1, true) then
      duplicates = duplicates + 1
    else
      accepted = accepted + 1
    end
  else
    failed = failed + 1
  end
  if answered == count then
    local marker = io.open(os.getenv("BENCH_DONE_DIR") .. "/thread-" .. id, "w")
    marker:write(answered)
    marker:close()
  end
end

function done(summary, latency, requests)
  local acc, dup, fail = 0, 0, 0
  for _, thread in ipairs(threads) do
    acc = acc + thread:get("accepted")
    dup = dup + thread:get("duplicates")
    fail = fail + thread:get("failed")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"accepted":%d,"duplicates":%d,"failed":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, acc, dup, fail, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
