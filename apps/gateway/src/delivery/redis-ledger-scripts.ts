/**
 * The Redis ledger's writes, each one Lua script (atomic in Redis: it runs whole or, when a check fails first,
 * writes nothing). Keys live under the base given as ARGV[1] (`<REDIS_PREFIX>deliveries:`):
 *
 * - `r:<id>` hash: the record (status, attempts, times, lastError, summary, traceparent, and `ck`/`pk`, the encoded
 *   client and plugin ids that name its index keys); `p:<id>` string: the payload, only while pending or dead.
 * - `c:<ck>` zset of the client's ids by acceptance sequence, and the same per status (`:s:<status>`), per plugin
 *   (`:p:<pk>`) and per both (`:sp:<status>:<pk>`), so every filtered page is read from its own index.
 * - `u:<ck>` hash: the client's pending rows, payload bytes, and counts per status (`n:<status>`) and per status and
 *   plugin (`pn:<status>:<plugin>`); `n` hash: the same totals for all clients.
 * - `pending` (by acceptance time), `due` (queued, by due time), `delivered` (by delivery time), `dead` (by time of
 *   death) zsets; `dl:<ck>` (the client's deliveries of the last minute); `unqueued` (ids whose BullMQ job is not
 *   confirmed yet, by time: see the store); `plugins` set; `seq` counter.
 */

const PRELUDE = `
local K = ARGV[1]
local function bump(key, field, by)
  local n = redis.call('HINCRBY', key, field, by)
  if n == 0 then redis.call('HDEL', key, field) end
  return n
end
local function load(id)
  local f = redis.call('HMGET', K .. 'r:' .. id, 'status', 'ck', 'pk', 'pluginId', 'seq', 'createdAt', 'bytes', 'claim', 'attempts')
  if not f[1] then return nil end
  return { id = id, status = f[1], ck = f[2], pk = f[3], plugin = f[4], seq = tonumber(f[5]), createdAt = tonumber(f[6]),
    bytes = tonumber(f[7]), claim = f[8], attempts = tonumber(f[9]) }
end
local function pending(status) return status == 'queued' or status == 'delivering' end
-- Moves a record between statuses (to = nil: out of every status structure, before a delete).
local function move(r, to)
  local from = r.status
  local u = K .. 'u:' .. r.ck
  local base = K .. 'c:' .. r.ck
  if from then
    redis.call('ZREM', base .. ':s:' .. from, r.id)
    redis.call('ZREM', base .. ':sp:' .. from .. ':' .. r.pk, r.id)
    bump(u, 'n:' .. from, -1)
    bump(u, 'pn:' .. from .. ':' .. r.plugin, -1)
    bump(K .. 'n', 'n:' .. from, -1)
    if from == 'queued' then redis.call('ZREM', K .. 'due', r.id) end
    if from == 'delivered' or from == 'dead' then redis.call('ZREM', K .. from, r.id) end
  end
  if to then
    redis.call('ZADD', base .. ':s:' .. to, r.seq, r.id)
    redis.call('ZADD', base .. ':sp:' .. to .. ':' .. r.pk, r.seq, r.id)
    bump(u, 'n:' .. to, 1)
    bump(u, 'pn:' .. to .. ':' .. r.plugin, 1)
    bump(K .. 'n', 'n:' .. to, 1)
    redis.call('HSET', K .. 'r:' .. r.id, 'status', to)
  end
  if pending(from) and not pending(to) then
    bump(u, 'pending', -1)
    bump(K .. 'n', 'pending', -1)
    redis.call('ZREM', K .. 'pending', r.id)
  elseif pending(to) and not pending(from) then
    bump(u, 'pending', 1)
    bump(K .. 'n', 'pending', 1)
    redis.call('ZADD', K .. 'pending', r.createdAt, r.id)
  end
  r.status = to
end
local function dropPayload(r)
  if redis.call('DEL', K .. 'p:' .. r.id) == 1 then bump(K .. 'u:' .. r.ck, 'bytes', -r.bytes) end
end
local function remove(r)
  dropPayload(r)
  move(r, nil)
  redis.call('ZREM', K .. 'c:' .. r.ck, r.id)
  redis.call('ZREM', K .. 'c:' .. r.ck .. ':p:' .. r.pk, r.id)
  redis.call('ZREM', K .. 'unqueued', r.id)
  redis.call('DEL', K .. 'r:' .. r.id)
  if redis.call('ZCARD', K .. 'c:' .. r.ck) == 0 then redis.call('DEL', K .. 'u:' .. r.ck, K .. 'dl:' .. r.ck) end
end
local function usage(ck)
  local u = redis.call('HMGET', K .. 'u:' .. ck, 'pending', 'bytes')
  return { tonumber(redis.call('HGET', K .. 'n', 'pending') or 0), tonumber(u[1] or 0), tonumber(u[2] or 0) }
end
`;

/**
 * ARGV: base, now, maxPending, maxPendingPerClient, maxBytesPerClient, count, then per delivery 11 fields:
 * id, clientId, ck, pluginId, pk, operationId, requestId, payload, summary (JSON), bytes, traceparent ('' = none).
 * Returns {'ok'}, {'duplicate', id} or {'cap', name, pending, clientPending, clientBytes} (nothing written).
 */
export const ENQUEUE = `${PRELUDE}
local now, maxPending, maxClient, maxBytes, count = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local F = 11
local added, addedBytes, clients = {}, {}, {}
for i = 0, count - 1 do
  local o = 7 + i * F
  local id, ck = ARGV[o], ARGV[o + 2]
  if redis.call('EXISTS', K .. 'r:' .. id) == 1 then return { 'duplicate', id } end
  if not added[ck] then added[ck] = 0; addedBytes[ck] = 0; table.insert(clients, ck) end
  added[ck] = added[ck] + 1
  addedBytes[ck] = addedBytes[ck] + tonumber(ARGV[o + 9])
end
local total = tonumber(redis.call('HGET', K .. 'n', 'pending') or 0)
if total + count > maxPending then
  local u = usage(clients[1])
  return { 'cap', 'max-pending', u[1], u[2], u[3] }
end
for _, ck in ipairs(clients) do
  local u = usage(ck)
  if u[2] + added[ck] > maxClient then return { 'cap', 'max-pending-per-client', u[1], u[2], u[3] } end
  if u[3] + addedBytes[ck] > maxBytes then return { 'cap', 'max-bytes-per-client', u[1], u[2], u[3] } end
end
local last = redis.call('INCRBY', K .. 'seq', count)
for i = 0, count - 1 do
  local o = 7 + i * F
  local id, ck, pk, bytes = ARGV[o], ARGV[o + 2], ARGV[o + 4], tonumber(ARGV[o + 9])
  local seq = last - count + 1 + i
  redis.call('HSET', K .. 'r:' .. id, 'id', id, 'clientId', ARGV[o + 1], 'ck', ck, 'pluginId', ARGV[o + 3], 'pk', pk,
    'operationId', ARGV[o + 5], 'requestId', ARGV[o + 6], 'summary', ARGV[o + 8], 'bytes', bytes, 'seq', seq,
    'attempts', 0, 'createdAt', now, 'updatedAt', now, 'windowStartedAt', now, 'nextAttemptAt', now)
  if ARGV[o + 10] ~= '' then redis.call('HSET', K .. 'r:' .. id, 'acceptedTraceparent', ARGV[o + 10]) end
  redis.call('SET', K .. 'p:' .. id, ARGV[o + 7])
  bump(K .. 'u:' .. ck, 'bytes', bytes)
  redis.call('ZADD', K .. 'c:' .. ck, seq, id)
  redis.call('ZADD', K .. 'c:' .. ck .. ':p:' .. pk, seq, id)
  local r = { id = id, ck = ck, pk = pk, plugin = ARGV[o + 3], seq = seq, createdAt = now }
  move(r, 'queued')
  redis.call('ZADD', K .. 'due', now, id)
  redis.call('ZADD', K .. 'unqueued', now, id)
  redis.call('SADD', K .. 'plugins', ARGV[o + 3])
end
return { 'ok' }
`;

/**
 * ARGV: base, id, now, token, earlyMs. A queued record (or one left delivering by a claim whose BullMQ lock lapsed)
 * becomes delivering with one more attempt. Returns {'ok', record fields..., payload}, {'later', nextAttemptAt} for
 * a job that came back before its record is due, or {'stale'} (no such record, or delivered or dead).
 */
export const CLAIM = `${PRELUDE}
local id, now, token, early = ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local r = load(id)
if not r or not pending(r.status) then return { 'stale' } end
local key = K .. 'r:' .. id
if r.status == 'queued' then
  local due = tonumber(redis.call('HGET', key, 'nextAttemptAt') or now)
  if due > now + early then return { 'later', tostring(due) } end
end
local payload = redis.call('GET', K .. 'p:' .. id)
if not payload then return { 'stale' } end
move(r, 'delivering')
redis.call('HINCRBY', key, 'attempts', 1)
redis.call('HSET', key, 'updatedAt', now, 'claim', token)
redis.call('HDEL', key, 'nextAttemptAt')
return { 'ok', redis.call('HGETALL', key), payload }
`;

/**
 * ARGV: base, id, outcome, now, token ('' = any), nextAttemptAt, error (JSON or ''). `delivered` applies to a record
 * still pending (the upstream has it, whoever holds the claim now); the others only to a record delivering under
 * this claim. Returns 1 when applied, 0 when the record was left as it was.
 */
export const SETTLE = `${PRELUDE}
local id, outcome, now, token, nextAt, err = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7]
local r = load(id)
if not r then return 0 end
local key = K .. 'r:' .. id
if outcome == 'delivered' then
  if not pending(r.status) then return 0 end
  move(r, 'delivered')
  dropPayload(r)
  redis.call('HSET', key, 'deliveredAt', now, 'updatedAt', now)
  redis.call('HDEL', key, 'nextAttemptAt')
  redis.call('ZADD', K .. 'delivered', now, id)
  redis.call('ZADD', K .. 'dl:' .. r.ck, now, id)
  redis.call('ZREMRANGEBYSCORE', K .. 'dl:' .. r.ck, '-inf', '(' .. (now - 60000))
  return 1
end
if r.status ~= 'delivering' or (token ~= '' and r.claim ~= token) then return 0 end
if err ~= '' then redis.call('HSET', key, 'lastError', err) end
redis.call('HSET', key, 'updatedAt', now)
if outcome == 'dead' then
  move(r, 'dead')
  redis.call('ZADD', K .. 'dead', now, id)
  return 1
end
if outcome == 'release' and r.attempts > 0 then redis.call('HINCRBY', key, 'attempts', -1) end
move(r, 'queued')
redis.call('HSET', key, 'nextAttemptAt', nextAt)
redis.call('ZADD', K .. 'due', tonumber(nextAt), id)
return 1
`;

/** ARGV: base, id, now. A record left delivering by a claim whose lock lapsed is queued again, due now. */
export const RECOVER = `${PRELUDE}
local id, now = ARGV[2], tonumber(ARGV[3])
local r = load(id)
if not r or r.status ~= 'delivering' then return 0 end
move(r, 'queued')
redis.call('HSET', K .. 'r:' .. id, 'nextAttemptAt', now, 'updatedAt', now)
redis.call('ZADD', K .. 'due', now, id)
return 1
`;

/**
 * ARGV: base, now, maxPending, maxPendingPerClient, maxBytesPerClient, ck, ids... Each dead delivery of this client
 * back to queued with a fresh window, in order, each passing the caps (its bytes are already counted: it must not be
 * over them); stops at the first refusal. Returns {retried ids (as a list), cap or '', pending, clientPending, clientBytes}.
 */
export const RETRY = `${PRELUDE}
local now, maxPending, maxClient, maxBytes, ck = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local retried = {}
for i = 7, #ARGV do
  local r = load(ARGV[i])
  if r and r.ck == ck and r.status == 'dead' then
    local u = usage(ck)
    local cap = ''
    if u[1] + 1 > maxPending then cap = 'max-pending'
    elseif u[2] + 1 > maxClient then cap = 'max-pending-per-client'
    elseif u[3] > maxBytes then cap = 'max-bytes-per-client' end
    if cap ~= '' then return { retried, cap, u[1], u[2], u[3] } end
    move(r, 'queued')
    redis.call('HSET', K .. 'r:' .. r.id, 'windowStartedAt', now, 'nextAttemptAt', now, 'updatedAt', now)
    redis.call('ZADD', K .. 'due', now, r.id)
    redis.call('ZADD', K .. 'unqueued', now, r.id)
    table.insert(retried, r.id)
  end
end
local u = usage(ck)
return { retried, '', u[1], u[2], u[3] }
`;

/** ARGV: base, ck, ids... Removes each queued or dead delivery of this client. Returns per id: 'discarded', 'not-found' or 'busy'. */
export const DISCARD = `${PRELUDE}
local ck = ARGV[2]
local results = {}
for i = 3, #ARGV do
  local r = load(ARGV[i])
  if not r or r.ck ~= ck then table.insert(results, 'not-found')
  elseif r.status == 'queued' or r.status == 'dead' then remove(r); table.insert(results, 'discarded')
  else table.insert(results, 'busy') end
end
return results
`;

/** ARGV: base, status ('delivered' or 'dead'), before, limit. Removes up to `limit` records settled so before; returns how many. */
export const PRUNE = `${PRELUDE}
local status, before, limit = ARGV[2], ARGV[3], tonumber(ARGV[4])
local ids = redis.call('ZRANGEBYSCORE', K .. status, '-inf', '(' .. before, 'LIMIT', 0, limit)
local removed = 0
for _, id in ipairs(ids) do
  local r = load(id)
  if r and r.status == status then remove(r); removed = removed + 1
  else redis.call('ZREM', K .. status, id) end
end
return { removed, #ids }
`;
