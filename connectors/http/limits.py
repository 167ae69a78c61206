"""A token bucket and a circuit breaker per connection, shared by every worker process through
Redis, or by every thread of this process when there is no Redis (embedded mode)."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Protocol

from redis import Redis

BUCKET_KEY = "gudok:ratelimit:{}"
BREAKER_KEY = "gudok:breaker:{}"
BREAKER_TTL_SECONDS = 86400  # a connection that stopped calling forgets its failures

# KEYS[1] bucket; ARGV rate, burst, now (negative: use the Redis clock, one clock for all hosts).
# Returns "0" when a token was taken, else the seconds until one is free (nothing is taken).
TAKE_TOKEN = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens, stamp = tonumber(state[1]), tonumber(state[2])
if tokens == nil or stamp == nil then tokens, stamp = burst, now end
if now > stamp then
  tokens = math.min(burst, tokens + (now - stamp) * rate)
  stamp = now
end
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(stamp))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return tostring(wait)
"""

# KEYS[1] breaker; ARGV now, cooldown. "closed", "probe" (this caller is the one half-open
# call; others wait for its result or another cooldown) or "open".
ADMIT = """
local state = redis.call('HMGET', KEYS[1], 'opened_at', 'probe_at')
local opened, probe = tonumber(state[1]), tonumber(state[2])
local now, cooldown = tonumber(ARGV[1]), tonumber(ARGV[2])
if opened == nil then return 'closed' end
if now - opened < cooldown then return 'open' end
if probe ~= nil and now - probe < cooldown then return 'open' end
redis.call('HSET', KEYS[1], 'probe_at', ARGV[1])
return 'probe'
"""

# KEYS[1] breaker; ARGV now, threshold, ttl. Counts a transient failure; opens (or re-opens
# after a failed probe) at the threshold.
RECORD_FAILURE = """
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local opened = redis.call('HGET', KEYS[1], 'opened_at')
if opened or failures >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'opened_at', ARGV[1])
  redis.call('HDEL', KEYS[1], 'probe_at')
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return failures
"""


class TokenBucket(Protocol):
    def take(self, now: float | None) -> float:
        """Take one token: 0.0 when granted, else the seconds until one is free."""
        ...


class LocalTokenBucket:
    """In-process bucket; one per connection id, shared by every HttpClient of the process."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens: float = burst
        self.stamp: float | None = None
        self.lock = threading.Lock()

    def take(self, now: float | None) -> float:
        assert now is not None, "the in-process bucket needs the caller's clock"
        with self.lock:
            if self.stamp is None:
                self.stamp = now
            if now > self.stamp:
                self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return 0.0
            return (1 - self.tokens) / self.rate


class RedisTokenBucket:
    """The same bucket as one atomic Lua script on a Redis hash, for every worker process."""

    def __init__(self, redis: Redis, connection_id: str, rate: float, burst: int) -> None:
        self.key = BUCKET_KEY.format(connection_id)
        self.rate, self.burst = rate, burst
        self.script = redis.register_script(TAKE_TOKEN)

    def take(self, now: float | None) -> float:
        result = self.script(keys=[self.key], args=[self.rate, self.burst,
                                                    -1 if now is None else now])
        return float(result)


@dataclass(frozen=True)
class BreakerState:
    """What the operator view shows for a connection's circuit."""

    state: str                      # "closed", "open" or "half_open"
    consecutive_failures: int
    opened_at: float | None
    next_probe_at: float | None


class CircuitBreaker(Protocol):
    def admit(self, now: float) -> bool: ...
    def record_success(self) -> None: ...
    def record_failure(self, now: float) -> None: ...
    def state(self, now: float) -> BreakerState: ...


def _state(failures: int, opened: float | None, probe: float | None, now: float,
           cooldown: float) -> BreakerState:
    if opened is None:
        return BreakerState("closed", failures, None, None)
    next_probe = opened + cooldown
    if probe is not None and probe >= opened:
        next_probe = max(next_probe, probe + cooldown)
    return BreakerState("open" if now < next_probe else "half_open", failures, opened,
                        next_probe)


class LocalCircuitBreaker:
    """In-process breaker; one per connection id."""

    def __init__(self, threshold: int, cooldown: float) -> None:
        self.threshold, self.cooldown = threshold, cooldown
        self.failures = 0
        self.opened_at: float | None = None
        self.probe_at: float | None = None
        self.lock = threading.Lock()

    def admit(self, now: float) -> bool:
        with self.lock:
            if self.opened_at is None:
                return True
            if now - self.opened_at < self.cooldown:
                return False
            if self.probe_at is not None and now - self.probe_at < self.cooldown:
                return False
            self.probe_at = now
            return True

    def record_success(self) -> None:
        with self.lock:
            self.failures, self.opened_at, self.probe_at = 0, None, None

    def record_failure(self, now: float) -> None:
        with self.lock:
            self.failures += 1
            if self.opened_at is not None or self.failures >= self.threshold:
                self.opened_at, self.probe_at = now, None

    def state(self, now: float) -> BreakerState:
        with self.lock:
            return _state(self.failures, self.opened_at, self.probe_at, now, self.cooldown)


class RedisCircuitBreaker:
    """The same breaker on a Redis hash, so one worker's failures pause every worker."""

    def __init__(self, redis: Redis, connection_id: str, threshold: int,
                 cooldown: float) -> None:
        self.redis = redis
        self.key = BREAKER_KEY.format(connection_id)
        self.threshold, self.cooldown = threshold, cooldown
        self.admit_script = redis.register_script(ADMIT)
        self.failure_script = redis.register_script(RECORD_FAILURE)

    def admit(self, now: float) -> bool:
        answer = self.admit_script(keys=[self.key], args=[now, self.cooldown])
        return _text(answer) != "open"

    def record_success(self) -> None:
        self.redis.delete(self.key)

    def record_failure(self, now: float) -> None:
        ttl = max(BREAKER_TTL_SECONDS, math.ceil(self.cooldown * 4))
        self.failure_script(keys=[self.key], args=[now, self.threshold, ttl])

    def state(self, now: float) -> BreakerState:
        failures, opened, probe = self.redis.hmget(self.key, ["failures", "opened_at",
                                                              "probe_at"])
        return _state(int(failures or 0), _number(opened), _number(probe), now, self.cooldown)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _number(value: object) -> float | None:
    return None if value is None else float(_text(value))


_local_lock = threading.Lock()
_local_buckets: dict[str, LocalTokenBucket] = {}
_local_breakers: dict[str, LocalCircuitBreaker] = {}


def local_bucket(connection_id: str, rate: float, burst: int) -> LocalTokenBucket:
    """The process's bucket for a connection; the latest rate and burst apply."""
    with _local_lock:
        bucket = _local_buckets.setdefault(connection_id, LocalTokenBucket(rate, burst))
        bucket.rate, bucket.burst = rate, burst
        return bucket


def local_breaker(connection_id: str, threshold: int, cooldown: float) -> LocalCircuitBreaker:
    """The process's breaker for a connection; the latest settings apply."""
    with _local_lock:
        breaker = _local_breakers.setdefault(connection_id,
                                             LocalCircuitBreaker(threshold, cooldown))
        breaker.threshold, breaker.cooldown = threshold, cooldown
        return breaker
