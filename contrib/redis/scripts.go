package riprapredis

import "github.com/redis/go-redis/v9"

// openScript publishes a local opening to the fleet in one round trip, with
// no lock held across anybody's call: a compare-and-set on the fleet's
// epoch, the quorum count when one is asked for, and the PUBLISH, all in
// one script so that no peer can see the key and the message disagree.
//
//	KEYS[1]  the fleet state (a hash: epoch, deadline, wait, origin, reason)
//	KEYS[2]  the quorum reports (a sorted set: instance -> time reported)
//	ARGV     instance, now ms, wait ms, epoch last seen, quorum,
//	         quorum window ms, ms to keep the key past the deadline,
//	         channel, reason
//
// It returns {status, epoch, deadline ms, reports}: status 1 published a
// new epoch; 0 found a newer epoch, still open, that this instance had not
// seen (so it adopts it instead of opening over it); 2 recorded a report
// that has not reached the quorum yet.
//
// Times are the caller's milliseconds since the Unix epoch: no TIME
// command, so the script runs on servers that refuse TIME in scripts.
// Numbers are written with %d, never tostring, which would switch to
// exponent notation for large values.
var openScript = redis.NewScript(`
local st = redis.call('HMGET', KEYS[1], 'epoch', 'deadline')
local epoch = tonumber(st[1]) or 0
local deadline = tonumber(st[2]) or 0
local now = tonumber(ARGV[2])
local wait = tonumber(ARGV[3])
if epoch ~= tonumber(ARGV[4]) and deadline > now then
  return {0, epoch, deadline, 0}
end
local quorum = tonumber(ARGV[5])
local reports = 0
if quorum > 1 then
  local window = tonumber(ARGV[6])
  redis.call('ZADD', KEYS[2], now, ARGV[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', string.format('%d', now - window))
  redis.call('PEXPIRE', KEYS[2], window)
  reports = redis.call('ZCARD', KEYS[2])
  if reports < quorum then
    return {2, epoch, deadline, reports}
  end
  redis.call('DEL', KEYS[2])
end
epoch = epoch + 1
if now + wait > deadline then deadline = now + wait end
local e, d, w = string.format('%d', epoch), string.format('%d', deadline), string.format('%d', wait)
redis.call('HSET', KEYS[1], 'epoch', e, 'deadline', d, 'wait', w, 'origin', ARGV[1], 'reason', ARGV[9])
redis.call('PEXPIRE', KEYS[1], string.format('%d', deadline - now + tonumber(ARGV[7])))
redis.call('PUBLISH', ARGV[8], table.concat({'v1', e, d, w, ARGV[1], ARGV[9]}, '\n'))
return {1, epoch, deadline, reports}
`)

// gcraScript makes one rate-limit decision for the whole fleet by the
// generic cell rate algorithm: the key holds the theoretical arrival time
// (TAT) in microseconds; admitting n events moves it to max(TAT, now) +
// n×interval, allowed while that stays within now + burst×interval.
//
//	KEYS[1]  the TAT
//	ARGV     interval µs, burst, n, partial (1: grant as many of n as are
//	         free, for a lease; 0: all or nothing), now µs or "" to read
//	         the server's clock with TIME
//
// It returns {granted, retry after µs}: granted is n (or, partial, the
// tokens taken), 0 when refused; retry after is how long until n tokens
// are free when granted is 0. A refused lease thus waits for a whole
// lease: under overload, instances then ask once per lease rather than
// racing each other for every token.
//
// The key expires a minute after the bucket would be full again, so an
// idle limiter leaves nothing behind. The minute covers a caller's clock
// that runs slower than the server's: a key that expired early would hand
// out a full bucket again.
var gcraScript = redis.NewScript(`
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local now
if ARGV[5] == '' then
  if redis.replicate_commands then redis.replicate_commands() end
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[5])
end
local tat = tonumber(redis.call('GET', KEYS[1]) or 0)
if tat < now then tat = now end
local free = math.floor((now + burst * interval - tat) / interval)
if ARGV[4] == '1' and free > 0 and free < n then n = free end
if free < n then
  return {0, tat + n * interval - burst * interval - now}
end
tat = tat + n * interval
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', string.format('%d', math.ceil((tat - now) / 1000) + 60000))
return {n, 0}
`)
