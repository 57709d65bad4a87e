-- One request shape for wrk, from the script's arguments:
--   wrk ... -s bench/wrk_request.lua <url> -- METHOD PATH BODY [HEADER: value ...]
-- BODY "" sends none. Every "@N@" in PATH or BODY becomes "<thread>-<count>", unique within
-- one run (the caller puts a run tag beside it), for requests that must not repeat a name.
-- done() prints one line "WRK_JSON {...}" with the counts and latency percentiles.

local next_thread = 0

function setup(thread)
  thread:set("thread_number", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  method, path_template, body_template = args[1], args[2], args[3]
  headers = {}
  for i = 4, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  if body_template ~= "" then
    headers["Content-Type"] = "application/json"
  end
  count = 0
  local marked = (path_template .. body_template):find("@N@", 1, true)
  if not marked then
    fixed = wrk.format(method, path_template, headers, body_template ~= "" and body_template or nil)
  end
end

function request()
  if fixed then
    return fixed
  end
  count = count + 1
  local unique = thread_number .. "-" .. count
  local path = (path_template:gsub("@N@", unique))
  local body = (body_template:gsub("@N@", unique))
  return wrk.format(method, path, headers, body ~= "" and body or nil)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "status_errors": %d, "connect_errors": %d, '
      .. '"read_errors": %d, "write_errors": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, '
      .. '"p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, errors.status, errors.connect, errors.read, errors.write,
    errors.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max))
end
