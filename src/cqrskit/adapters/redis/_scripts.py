"""The Lua scripts of the Redis read store (the key layout is in `_keys`).

A script runs atomically, so the commit checks every checkpoint before it
writes anything: a stale batch leaves every key as it was. Every key a script
touches is passed in KEYS, never built inside, so that on Redis Cluster the
keys of one commit can be routed; Cluster would also need them in one hash
slot, i.e. a hash tag carrying the partition in every key (`{ns:p3}:d:...`,
with the query side mapping a document key to its partition) and an index per
partition or a scatter-gather for indexes that span partitions (the catalog).
"""

from __future__ import annotations

# KEYS: the checkpoint hash; the doc keys set; the doc keys deleted; then three
#   keys (order, entries, folded) per index touched.
# ARGV: how many moves, sets, deletes and indexes; each move as (stream,
#   expected, new); each value set; then per index how many removes and puts,
#   the members removed and each put as (member, sort key, text, folded text).
# Returns 1, or {stream, current version} for the first checkpoint that moved.
# A commit that moves checkpoints also stores the server's TIME in the hash's
#   "$committed_at" field (`_keys.COMMITTED_AT`), for the applied → visible stage.
COMMIT = r"""#!lua
local function sort_key_of(entry)
  return string.sub(entry, 1, string.find(entry, "\0", 1, true) - 1)
end

local checkpoints = KEYS[1]
local moves, sets, dels = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local indexes = tonumber(ARGV[4])
local arg = 5
for _ = 1, moves do
  local current = tonumber(redis.call("HGET", checkpoints, ARGV[arg]) or "0")
  if current ~= tonumber(ARGV[arg + 1]) then
    return {ARGV[arg], current}
  end
  arg = arg + 3
end
local key = 2
for _ = 1, sets do
  redis.call("SET", KEYS[key], ARGV[arg])
  key, arg = key + 1, arg + 1
end
for _ = 1, dels do
  redis.call("DEL", KEYS[key])
  key = key + 1
end
for _ = 1, indexes do
  local order, entries, folded = KEYS[key], KEYS[key + 1], KEYS[key + 2]
  local removes, puts = tonumber(ARGV[arg]), tonumber(ARGV[arg + 1])
  key, arg = key + 3, arg + 2
  for _ = 1, removes do
    local member = ARGV[arg]
    local entry = redis.call("HGET", entries, member)
    if entry then
      redis.call("ZREM", order, sort_key_of(entry) .. "\0" .. member)
      redis.call("HDEL", entries, member)
      redis.call("HDEL", folded, member)
    end
    arg = arg + 1
  end
  for _ = 1, puts do
    local member, sort_key = ARGV[arg], ARGV[arg + 1]
    local entry = redis.call("HGET", entries, member)
    if entry and sort_key_of(entry) ~= sort_key then
      redis.call("ZREM", order, sort_key_of(entry) .. "\0" .. member)
    end
    redis.call("ZADD", order, 0, sort_key .. "\0" .. member)
    redis.call("HSET", entries, member, sort_key .. "\0" .. ARGV[arg + 2])
    redis.call("HSET", folded, member, ARGV[arg + 3])
    arg = arg + 4
  end
end
local move = 5
for _ = 1, moves do
  redis.call("HSET", checkpoints, ARGV[move], ARGV[move + 2])
  move = move + 3
end
if moves > 0 then
  local now = redis.call("TIME")
  local at = now[1] .. string.format(".%06d", now[2])
  redis.call("HSET", checkpoints, "$committed_at", at)
end
return 1
"""

# KEYS: checkpoint hashes. ARGV: none.
# Returns {server time, then each hash's "$committed_at" (nil if none)}, the times
#   as "seconds.micros" strings, read in one step.
APPLIED_AGES = r"""#!lua flags=no-writes
local now = redis.call("TIME")
local out = {now[1] .. string.format(".%06d", now[2])}
for i = 1, #KEYS do
  out[i + 1] = redis.call("HGET", KEYS[i], "$committed_at")
end
return out
"""

# KEYS: the order, entries and folded keys of one index.
# ARGV: start and stop bounds (BYLEX; for REV start is the upper one), "1" to
#   walk in reverse, the limit, the folded needle ("" matches all), how many
#   members to fetch at a time, and how many to look at before giving up.
# Returns {resume, member, sort key, text, ...}: resume is "" when the page is
#   complete, else the bound to go on from in another call.
PAGE = r"""#!lua flags=no-writes
local order, entries, folded = KEYS[1], KEYS[2], KEYS[3]
local start, stop, reverse = ARGV[1], ARGV[2], ARGV[3] == "1"
local limit, needle = tonumber(ARGV[4]), ARGV[5]
local chunk, budget = tonumber(ARGV[6]), tonumber(ARGV[7])
local out, found, scanned = {""}, 0, 0
while true do
  local batch
  if reverse then
    batch = redis.call("ZRANGE", order, start, stop, "BYLEX", "REV", "LIMIT", 0, chunk)
  else
    batch = redis.call("ZRANGE", order, start, stop, "BYLEX", "LIMIT", 0, chunk)
  end
  for _, lex in ipairs(batch) do
    local cut = string.find(lex, "\0", 1, true)
    local member = string.sub(lex, cut + 1)
    if needle == "" or string.find(
      redis.call("HGET", folded, member) or "", needle, 1, true
    ) then
      local entry = redis.call("HGET", entries, member) or ""
      out[#out + 1] = member
      out[#out + 1] = string.sub(lex, 1, cut - 1)
      out[#out + 1] = string.sub(entry, cut + 1)
      found = found + 1
      if found == limit then
        return out
      end
    end
    start = "(" .. lex
  end
  scanned = scanned + #batch
  if #batch < chunk then
    return out
  end
  if scanned >= budget then
    out[1] = start
    return out
  end
end
"""

# KEYS: the live checkpoint hash, the live keys to drop (ARGV[1] of them), then
#   pairs (scratch key, live key) to move.
# ARGV: how many keys to drop; the generation field, the generation expected and
#   the one to set.
# Returns how many keys were moved, or {-1, current generation} when the live
# generation is not the one expected (a broken pause): then nothing is written.
# Moves one projection's views from a scratch namespace into the live one in one
# step: readers see all old or all new. A scratch key that is gone is skipped (as
# if the scratch never had it), so the script cannot fail halfway: Redis does
# not roll back a script's writes. Each UNLINK and RENAME is O(1), but the server
# serves nobody else until the script ends, so a projection of millions of keys
# pauses reads for a moment.
# Every key is passed in KEYS (found by SCAN beforehand, while the projection is
# paused, so no live projector creates one meanwhile), as above; but on Redis
# Cluster one script cannot touch keys in different hash slots, and these span
# the whole of both namespaces: there, a rebuild would have to swap per slot (per
# partition hash tag), or build a new namespace and switch readers to it.
ADOPT = r"""#!lua
local checkpoints, drops = KEYS[1], tonumber(ARGV[1])
local field, expected = ARGV[2], tonumber(ARGV[3])
local current = tonumber(redis.call("HGET", checkpoints, field) or "0")
if current ~= expected then
  return {-1, current}
end
redis.call("UNLINK", checkpoints)
for i = 2, drops + 1 do
  redis.call("UNLINK", KEYS[i])
end
local moved = 0
for i = drops + 2, #KEYS, 2 do
  if redis.call("EXISTS", KEYS[i]) == 1 then
    redis.call("RENAME", KEYS[i], KEYS[i + 1])
    moved = moved + 1
  end
end
redis.call("HSET", checkpoints, field, ARGV[4])
return moved
"""
