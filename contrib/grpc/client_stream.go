package grpcx

import (
	"context"
	"errors"
	"io"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/backoff"
	"github.com/riprap-go/riprap/resilience/breaker"
)

// MaxReplay bounds the messages a stream keeps to send again on a new
// stream when its first attempt fails. A stream that sent more is not
// retried.
const MaxReplay = 64

// StreamInterceptor returns the interceptor that guards each stream.
//
// The stream's start passes the limit and the breaker. The breaker judges
// the stream twice at most: its establishment, settled by the first
// message received (a success) or by a status ending the stream before
// any (judged by Classifier); and, for a stream that got going and then
// ended with a status judged a failure, that final status, reported as one
// more outcome. So a long-lived stream holds no half-open probe slot once
// it has answered, and a stream that breaks in the middle still counts
// against the server.
//
// A retryable method's stream is retried, as the Retry allows, while it
// has received nothing: it is opened again and the messages already sent
// are sent again, provided the send side was closed first (the whole
// request is known; a server-streaming call always qualifies) or nothing
// was sent, no send failed, and at most [MaxReplay] messages were sent.
// Once a message has been received the stream is never replayed: the
// caller has acted on a partial answer, and its failure is the server's,
// not a reason to start over.
func (c *Client) StreamInterceptor() grpc.StreamClientInterceptor {
	return c.stream
}

func (c *Client) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	if c == nil {
		return nil, errNilClient
	}
	p := c.plan(method)
	if p.err != nil {
		return nil, status.Error(codes.Internal, p.err.Error())
	}
	s := &clientStream{c: c, p: p, ctx: ctx, desc: desc, cc: cc, method: method, streamer: streamer, opts: opts}
	if err := p.streamRT.Run(ctx, s.open); err != nil {
		return nil, callerError(err)
	}
	if p.br != nil {
		s.stop = context.AfterFunc(ctx, s.abandoned)
	}
	return s, nil
}

// clientStream is the stream a caller sees. It forwards to the current
// attempt, keeps what was sent while a replay is still possible, and
// settles the breaker's permit.
type clientStream struct {
	c        *Client
	p        *plan
	ctx      context.Context // the caller's
	desc     *grpc.StreamDesc
	cc       *grpc.ClientConn
	method   string
	streamer grpc.Streamer
	opts     []grpc.CallOption
	stop     func() bool // ends the watch on ctx; nil without a breaker

	mu         sync.Mutex        // protects the fields below
	cur        grpc.ClientStream // the current attempt
	permit     breaker.Permit    // the current attempt's, while pending
	pending    bool              // permit is not settled yet
	sent       []any             // messages sent while a replay is possible
	closedSend bool              // CloseSend was called
	noReplay   bool              // a send failed, or too many were kept
	received   bool              // a message arrived: never replay again
	ended      bool              // RecvMsg reported the end: no more judging or replays
	lastErr    error             // the error that ended the latest attempt
}

// open starts one attempt: the breaker, then the limit around the start.
func (s *clientStream) open(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var permit breaker.Permit
	if s.p.br != nil {
		var err error
		if permit, err = s.p.br.Allow(); err != nil {
			return err
		}
	}
	var cs grpc.ClientStream
	err := s.p.admit.Run(ctx, func(ctx context.Context) error {
		var err error
		cs, err = s.streamer(ctx, s.desc, s.cc, s.method, s.opts...)
		return err
	})
	if err != nil {
		err = s.c.judge(s.ctx, err, nil)
		if s.p.br != nil {
			permit.DoneErr(s.ctx, err)
		}
		return err
	}
	s.mu.Lock()
	s.cur, s.permit, s.pending = cs, permit, s.p.br != nil
	s.mu.Unlock()
	return nil
}

// reopen replaces a failed attempt with a new one and sends it what the
// caller sent so far. It is checked again here, under the lock, that a
// replay is still safe: the caller may have sent meanwhile.
func (s *clientStream) reopen(ctx context.Context) error {
	s.mu.Lock()
	ok, last := s.replayable(), s.lastErr
	s.mu.Unlock()
	if !ok {
		return backoff.Permanent(last)
	}
	if err := s.open(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.sent {
		if err := s.cur.SendMsg(m); err != nil {
			break // the new attempt failed too; RecvMsg says how
		}
	}
	if s.closedSend {
		return s.cur.CloseSend()
	}
	return nil
}

// replayable reports whether a failed attempt may be replaced; s.mu is
// held.
func (s *clientStream) replayable() bool {
	return !s.received && !s.noReplay && (s.closedSend || len(s.sent) == 0)
}

func (s *clientStream) current() grpc.ClientStream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// SendMsg sends m on the current attempt, keeping it while a replay is
// possible.
func (s *clientStream) SendMsg(m any) error {
	s.mu.Lock()
	keep := !s.received && !s.noReplay && s.p.streamRT.Len() > 0
	if keep && len(s.sent) < MaxReplay {
		s.sent = append(s.sent, m)
	} else if keep {
		s.noReplay, s.sent = true, nil
	}
	cur := s.cur
	s.mu.Unlock()
	err := cur.SendMsg(m)
	if err != nil && keep {
		s.mu.Lock()
		s.noReplay, s.sent = true, nil // the caller may stop sending: the request is no longer whole
		s.mu.Unlock()
	}
	return err
}

// CloseSend closes the send side of the current attempt.
func (s *clientStream) CloseSend() error {
	s.mu.Lock()
	s.closedSend = true
	cur := s.cur
	s.mu.Unlock()
	return cur.CloseSend()
}

// RecvMsg receives the next message. Until the first one arrives it runs
// the attempts through the retry.
func (s *clientStream) RecvMsg(m any) error {
	s.mu.Lock()
	received, ended, cur := s.received, s.ended, s.cur
	s.mu.Unlock()
	switch {
	case ended: // gRPC repeats the end; it was judged already
		return cur.RecvMsg(m)
	case !received:
		err := s.recvFirst(m)
		if err != nil {
			s.markEnded()
		}
		return err
	}
	err := cur.RecvMsg(m)
	if err != nil {
		s.markEnded()
		s.end(cur, err)
	}
	return err
}

func (s *clientStream) markEnded() {
	s.mu.Lock()
	s.ended = true
	s.mu.Unlock()
}

// recvFirst waits for the first message, replacing failed attempts as the
// retry allows.
func (s *clientStream) recvFirst(m any) error {
	attempt := 0
	var final error // what the caller gets: a message (nil), io.EOF, or the last status
	err := s.p.streamRT.Run(s.ctx, func(ctx context.Context) error {
		if attempt++; attempt > 1 {
			if err := s.reopen(ctx); err != nil {
				final = err
				return err
			}
		}
		cur := s.current()
		final = cur.RecvMsg(m)
		switch {
		case final == nil:
			s.firstMessage()
			return nil
		case errors.Is(final, io.EOF):
			s.settle(nil)
			s.finish()
			return nil
		}
		judged := s.c.judge(s.ctx, final, cur.Trailer())
		s.settle(judged)
		s.mu.Lock()
		s.lastErr = judged
		s.mu.Unlock()
		return judged
	})
	if err == nil {
		return final
	}
	s.finish()
	if final == nil || resilience.IsRejected(err) {
		return callerError(err)
	}
	return callerError(final)
}

// firstMessage records that the stream got going: a success for the
// breaker, and the end of replays.
func (s *clientStream) firstMessage() {
	s.settle(nil)
	s.mu.Lock()
	s.received, s.sent = true, nil
	s.mu.Unlock()
	if !s.desc.ServerStreams {
		s.finish() // the one message was the answer; the status came with it
	}
}

// end judges the status that ended a stream after messages had flowed. A
// failure is one more outcome for the breaker, unless it already refuses
// calls.
func (s *clientStream) end(cur grpc.ClientStream, err error) {
	s.finish()
	if errors.Is(err, io.EOF) || s.p.br == nil {
		return
	}
	judged := s.c.judge(s.ctx, err, cur.Trailer())
	if resilience.DefaultOutcome(s.ctx, judged) != resilience.Failure {
		return
	}
	switch s.p.br.State() {
	case breaker.Open, breaker.ForcedOpen, breaker.HeldOpen:
		return
	}
	if permit, aerr := s.p.br.Allow(); aerr == nil {
		permit.DoneErr(s.ctx, judged)
	}
}

// settle reports the pending permit's outcome, once; err nil is a
// success.
func (s *clientStream) settle(err error) {
	s.mu.Lock()
	permit, pending := s.permit, s.pending
	s.pending = false
	s.mu.Unlock()
	if pending {
		permit.DoneErr(s.ctx, err)
	}
}

// finish stops watching the caller's context: the stream is over.
func (s *clientStream) finish() {
	if s.stop != nil {
		s.stop()
	}
}

// abandoned settles a pending permit when the caller's context ends
// before the stream answered: the caller's cancellation is ignored, its
// deadline is the server's failure to answer in time.
func (s *clientStream) abandoned() {
	s.settle(s.ctx.Err())
}

// Header returns the current attempt's header metadata.
func (s *clientStream) Header() (md metadata.MD, err error) { return s.current().Header() }

// Trailer returns the current attempt's trailer metadata.
func (s *clientStream) Trailer() metadata.MD { return s.current().Trailer() }

// Context returns the current attempt's context.
func (s *clientStream) Context() context.Context { return s.current().Context() }
