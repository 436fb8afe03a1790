/**
 * Lua scripts that make a message's outcome and its acknowledgement one atomic step: a worker
 * that dies after the script has run left nothing pending, and one that dies before it left the
 * message pending for another worker. The done-hash (HSETNX keyed by the input message id)
 * makes the outcome idempotent: when a slow worker and the one that reclaimed its message both
 * finish, only the first writes; both acknowledge.
 */

/**
 * KEYS: stream, results, done. ARGV: group, then (id, index, out) per message.
 * Returns how many results were written (the rest were already done).
 */
export const WRITE_RESULTS = `
local written = 0
for k = 2, #ARGV, 3 do
  local id = ARGV[k]
  if redis.call('HSETNX', KEYS[3], id, 'result') == 1 then
    redis.call('XADD', KEYS[2], '*', 'id', id, 'i', ARGV[k + 1], 'out', ARGV[k + 2])
    written = written + 1
  end
  redis.call('XACK', KEYS[1], ARGV[1], id)
end
return written
`;

/**
 * KEYS: stream, dead, done. ARGV: group, then (id, index, deliveries, reason, fields as JSON) per
 * message. Returns how many were dead-lettered (the rest were already done).
 */
export const DEAD_LETTER = `
local moved = 0
for k = 2, #ARGV, 5 do
  local id = ARGV[k]
  if redis.call('HSETNX', KEYS[3], id, 'dead') == 1 then
    redis.call('XADD', KEYS[2], '*', 'id', id, 'i', ARGV[k + 1], 'deliveries', ARGV[k + 2], 'reason', ARGV[k + 3], 'message', ARGV[k + 4])
    moved = moved + 1
  end
  redis.call('XACK', KEYS[1], ARGV[1], id)
end
return moved
`;

/**
 * Reads messages with a bound on their size, so a huge one is never sent to the worker (whose
 * heap it would exhaust): an entry whose fields total more than the bound comes back as
 * [id, its size in bytes, its "i" field if short] instead of [id, fields].
 * KEYS: stream. ARGV: 'read', group, consumer, count, max bytes, from ('>' or an id of this
 * consumer's pending list) -> entries; or 'claim', group, consumer, count, max bytes, min idle
 * ms, cursor -> XAUTOCLAIM's [next cursor, entries, deleted ids].
 */
export const READ_BOUNDED = `
local function bound(entries, max)
  for k = 1, #entries do
    local f = entries[k][2]
    if f then
      local size = 0
      for j = 1, #f do size = size + #f[j] end
      if size > max then
        local index = ''
        for j = 1, #f - 1, 2 do
          if f[j] == 'i' and #f[j + 1] <= 32 then index = f[j + 1] end
        end
        entries[k] = {entries[k][1], size, index}
      end
    end
  end
  return entries
end
local max = tonumber(ARGV[5])
if ARGV[1] == 'read' then
  local r = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', ARGV[4], 'STREAMS', KEYS[1], ARGV[6])
  if not r then return {} end
  return bound(r[1][2], max)
end
local r = redis.call('XAUTOCLAIM', KEYS[1], ARGV[2], ARGV[3], ARGV[6], ARGV[7], 'COUNT', ARGV[4])
r[2] = bound(r[2], max)
return r
`;
