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
