package riprapredis

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/riprap-go/riprap/resilience"
)

// Reconnection pacing and liveness. These are about the network, not the
// breaker's policy, so they run on real time even when a test mocks the
// clock.
const (
	minBackoff = 20 * time.Millisecond
	maxBackoff = time.Second
	// keepAlive is how long the subscriber waits for a message before it
	// pings, so that a connection that died silently is noticed.
	keepAlive = 5 * time.Second
)

// subscribeLoop reads the fleet's channel until Close. Every (re)subscription
// triggers a re-read of the fleet key, which repairs messages missed while
// the connection was down. go-redis re-dials and re-subscribes by itself on
// the read after an error; this loop only paces the attempts.
func (s *Breaker) subscribeLoop(ctx context.Context) {
	defer s.wg.Done()
	// On failure the channel is still recorded, and the next read dials
	// and subscribes.
	_ = s.ps.Subscribe(ctx, s.set.channel)
	backoff := minBackoff
	for ctx.Err() == nil {
		msg, err := s.ps.ReceiveTimeout(ctx, keepAlive)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if isTimeout(err) {
				_ = s.ps.Ping(ctx) // a dead connection fails the next read
				continue
			}
			s.disconnected(err)
			if !pause(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" && m.Channel == s.set.channel {
				s.connected()
				wake(s.resync)
			}
		case *redis.Message:
			s.onMessage(m.Payload)
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// pause waits d of real time, or until ctx ends; it reports whether ctx is
// still alive.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// onMessage adopts an opening published by a peer (or by this instance,
// which only updates the epoch).
func (s *Breaker) onMessage(payload string) {
	o, err := parseOpening(payload)
	if err != nil {
		s.fail(err)
		return
	}
	s.received.Add(1)
	s.adopt(o, false)
}

// connected records a confirmed subscription.
func (s *Breaker) connected() {
	s.setConn(connConnected, "subscribed", false)
}

// disconnected records a broken subscription.
func (s *Breaker) disconnected(err error) {
	s.fail(err)
	s.setConn(connDisconnected, err.Error(), true)
}

// setConn moves the connection state and tells listeners and, since a
// fail-closed breaker holds while disconnected, the hold goroutine.
func (s *Breaker) setConn(to, reason string, down bool) {
	s.mu.Lock()
	from := s.conn
	if from == to {
		s.mu.Unlock()
		return
	}
	s.conn = to
	if to == connConnected && from == connDisconnected {
		s.reconnects.Add(1)
	}
	if s.set.failClosed {
		s.holdGen++
	}
	s.disp.Enqueue(resilience.Event{
		Kind: resilience.EventStateChange, Policy: component, Name: s.set.name,
		Time: s.set.clk.Now(), From: from, To: to, Degraded: down, Reason: reason,
	})
	s.mu.Unlock()
	s.disp.Flush()
	wake(s.holdWake)
}

// fail counts a Redis error and keeps its text for the snapshot.
func (s *Breaker) fail(err error) {
	s.errors.Add(1)
	s.mu.Lock()
	s.lastErr = err.Error()
	s.mu.Unlock()
}
