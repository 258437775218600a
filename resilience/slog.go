package resilience

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/benbjohnson/clock"
)

// SlogOptions tunes [SlogListener]. The zero value is ready to use.
type SlogOptions struct {
	// Clock paces the rate limit of noisy events; nil means the real clock.
	Clock clock.Clock
	// Interval and Burst bound noisy events (rejections, retries,
	// timeouts, outcomes): at most Burst records per Interval for each
	// kind of event of each policy instance; the next record logged says how
	// many were suppressed. Defaults: 1s and 5.
	Interval time.Duration
	Burst    int
	// LogOutcomes logs every judged call at Debug ("request patterns").
	// Off by default: it is one record per call.
	LogOutcomes bool
	// StateChangesOnly subscribes the listener to state and limit changes
	// only, so that calls pay nothing for it.
	StateChangesOnly bool
}

// SlogListener returns a [Listener] that writes events to logger with
// structured attributes (policy, name, from, to, reason, attempt, delay,
// retry_after, error, and the policy's snapshot where the event has one):
//
//   - state changes at Warn when the new state degrades traffic (a breaker
//     opens, a target turns unhealthy) and at Info otherwise (it closes);
//   - rejections at Debug, timeouts and retries at Info, all rate-limited so
//     an outage cannot flood the log;
//   - fallbacks at Info, rate-limited like retries;
//   - limit changes at Info, panics in abandoned calls at Error;
//   - outcomes at Debug, only with [SlogOptions.LogOutcomes].
//
// A nil logger means [slog.Default]. The listener is safe for concurrent use.
func SlogListener(logger *slog.Logger, opts SlogOptions) Listener {
	if logger == nil {
		logger = slog.Default()
	}
	if opts.Clock == nil {
		opts.Clock = clock.New()
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.Burst <= 0 {
		opts.Burst = 5
	}
	sl := &slogListener{logger: logger, opts: opts, windows: make(map[windowKey]*logWindow)}
	if opts.StateChangesOnly {
		return OnStateChange(sl.handle)
	}
	kinds := AllKinds
	if !opts.LogOutcomes {
		kinds &^= KindsOf(EventOutcome)
	}
	return Listener{Kinds: kinds, Func: sl.handle}
}

type slogListener struct {
	logger *slog.Logger
	opts   SlogOptions

	mu      sync.Mutex // protects windows
	windows map[windowKey]*logWindow
}

type windowKey struct {
	kind         EventKind
	policy, name string
}

type logWindow struct {
	start      time.Time
	logged     int
	suppressed int
}

func (l *slogListener) handle(e Event) {
	level, msg, noisy := classifyEvent(e, l.opts.LogOutcomes)
	if msg == "" || !l.logger.Enabled(context.Background(), level) {
		return
	}
	attrs := make([]slog.Attr, 0, 10)
	if noisy {
		ok, suppressed := l.admit(e)
		if !ok {
			return
		}
		if suppressed > 0 {
			attrs = append(attrs, slog.Int("suppressed", suppressed))
		}
	}
	attrs = appendEventAttrs(attrs, e)
	l.logger.LogAttrs(context.Background(), level, msg, attrs...)
}

// classifyEvent picks the level and message of an event, or "" to skip it.
func classifyEvent(e Event, outcomes bool) (level slog.Level, msg string, noisy bool) {
	switch e.Kind {
	case EventStateChange:
		if e.Degraded {
			return slog.LevelWarn, "state change", false
		}
		return slog.LevelInfo, "state change", false
	case EventRejection:
		return slog.LevelDebug, "call rejected", true
	case EventRetry:
		return slog.LevelInfo, "retrying", true
	case EventTimeout:
		return slog.LevelInfo, "timeout", true
	case EventLimitChange:
		return slog.LevelInfo, "limit changed", false
	case EventPanic:
		return slog.LevelError, "panic in abandoned call", false
	case EventFallback:
		return slog.LevelInfo, "fallback used", true
	case EventOutcome:
		if outcomes {
			return slog.LevelDebug, "call finished", true
		}
	}
	return 0, "", false
}

// admit applies the per-instance rate limit; it reports whether to log and
// how many records were suppressed since the last one logged.
func (l *slogListener) admit(e Event) (bool, int) {
	now := l.opts.Clock.Now()
	k := windowKey{e.Kind, e.Policy, e.Name}
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windows[k]
	if w == nil {
		w = &logWindow{start: now}
		l.windows[k] = w
	}
	if now.Sub(w.start) >= l.opts.Interval {
		w.start, w.logged = now, 0
	}
	if w.logged >= l.opts.Burst {
		w.suppressed++
		return false, 0
	}
	w.logged++
	s := w.suppressed
	w.suppressed = 0
	return true, s
}

func appendEventAttrs(attrs []slog.Attr, e Event) []slog.Attr {
	attrs = append(attrs, slog.String("policy", e.Policy))
	if e.Name != "" {
		attrs = append(attrs, slog.String("name", e.Name))
	}
	if e.From != "" || e.To != "" {
		attrs = append(attrs, slog.String("from", e.From), slog.String("to", e.To))
	}
	if e.Reason != "" {
		attrs = append(attrs, slog.String("reason", e.Reason))
	}
	switch e.Kind {
	case EventOutcome:
		attrs = append(attrs, slog.String("outcome", e.Outcome.String()), slog.Duration("duration", e.Duration))
	case EventRetry:
		attrs = append(attrs, slog.Int("attempt", e.Attempt), slog.Duration("delay", e.Delay))
	case EventTimeout:
		attrs = append(attrs, slog.Duration("timeout", e.Delay))
	}
	if d, ok := RetryAfter(e.Err); ok {
		attrs = append(attrs, slog.Duration("retry_after", d))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("error", e.Err.Error()))
	}
	if e.Detail != nil {
		attrs = append(attrs, slog.Any("snapshot", e.Detail))
	}
	return attrs
}
