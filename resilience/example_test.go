package resilience_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/riprap-go/riprap/resilience"
)

// trace is a pass-through guard that prints when a call enters and leaves it.
func trace(name string) resilience.Guard {
	return resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		fmt.Println("enter", name)
		defer fmt.Println("leave", name)
		return next.Run(ctx)
	})
}

// The first guard of a pipeline is the outermost: it sees the call first and
// the result last.
func ExampleNewPipeline() {
	p := resilience.NewPipeline[string](trace("limit"), trace("breaker"), trace("timeout"))
	v, err := p.Execute(context.Background(), func(context.Context) (string, error) {
		fmt.Println("call the bank")
		return "ok", nil
	})
	fmt.Println(v, err)
	// Output:
	// enter limit
	// enter breaker
	// enter timeout
	// call the bank
	// leave timeout
	// leave breaker
	// leave limit
	// ok <nil>
}

// A nil guard does not panic: every call fails, naming its position.
func ExampleNewPipeline_nilGuard() {
	p := resilience.NewPipeline[int](trace("a"), nil)
	_, err := p.Execute(context.Background(), func(context.Context) (int, error) { return 1, nil })
	fmt.Println(err)
	fmt.Println(errors.Is(err, resilience.ErrNilPolicy))
	// Output:
	// resilience: nil policy: guard 2 of 2
	// true
}

// Per-call arguments travel in the closure; the pipeline is built once.
func ExamplePipeline_Execute() {
	p := resilience.NewPipeline[string](trace("outer"))
	for _, account := range []string{"alice", "bob"} {
		v, _ := p.Execute(context.Background(), func(context.Context) (string, error) { return "paid " + account, nil })
		fmt.Println(v)
	}
	// Output:
	// enter outer
	// leave outer
	// paid alice
	// enter outer
	// leave outer
	// paid bob
}

func ExamplePipeline_Wrap() {
	p := resilience.NewPipeline[string](trace("outer"))
	rate := p.Wrap(func(context.Context) (string, error) { return "1.0842", nil })
	v, err := rate(context.Background())
	fmt.Println(v, err)
	// Output:
	// enter outer
	// leave outer
	// 1.0842 <nil>
}

// A 503 response is a failure for the guards (a breaker counts it, a retry
// repeats it), but the caller still gets the response.
func ExamplePipeline_WithClassifier() {
	type response struct{ code int }
	verdict := resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		err := next.Run(ctx)
		fmt.Println("guard sees:", resilience.DefaultOutcome(ctx, err))
		return err
	})
	p := resilience.NewPipeline[response](verdict).WithClassifier(
		func(_ context.Context, r response, err error) resilience.Outcome {
			if err == nil && r.code >= 500 {
				return resilience.Failure
			}
			return resilience.Unclassified
		})
	r, err := p.Execute(context.Background(), func(context.Context) (response, error) { return response{503}, nil })
	fmt.Println("caller gets:", r.code, err)
	// Output:
	// guard sees: failure
	// caller gets: 503 <nil>
}

// Pipelines and chains nest; the order stays first outermost.
func ExamplePipeline_Guard() {
	inner := resilience.NewPipeline[string](trace("breaker"))
	shared := resilience.NewChain(trace("limit"))
	v, _ := resilience.Execute(context.Background(),
		func(context.Context) (string, error) { return "ok", nil },
		shared, inner)
	fmt.Println(v)
	// Output:
	// enter limit
	// enter breaker
	// leave breaker
	// leave limit
	// ok
}

func ExampleExecute() {
	v, err := resilience.Execute(context.Background(),
		func(context.Context) (string, error) { return "rate 1.0842", nil },
		trace("fx"))
	fmt.Println(v, err)
	_, err = resilience.Execute[string](context.Background(), nil)
	fmt.Println(err)
	// Output:
	// enter fx
	// leave fx
	// rate 1.0842 <nil>
	// resilience: nil Func
}

// Error-only operations run through a Chain: no struct{} result.
func ExampleNewChain() {
	c := resilience.NewChain(trace("limit"), trace("breaker"))
	err := c.Run(context.Background(), func(context.Context) error {
		fmt.Println("append to the log")
		return nil
	})
	fmt.Println(err)
	// Output:
	// enter limit
	// enter breaker
	// append to the log
	// leave breaker
	// leave limit
	// <nil>
}

func ExampleRun() {
	err := resilience.Run(context.Background(), func(context.Context) error { return errors.New("log: disk full") }, trace("retry"))
	fmt.Println(err)
	// Output:
	// enter retry
	// leave retry
	// log: disk full
}

// A fallback guard answers for the call with SetResult.
func ExampleSetResult() {
	cached := resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		if err := next.Run(ctx); err == nil || resilience.IsRejected(err) {
			return err
		}
		return resilience.SetResult(next, "rate 1.08 (cached)")
	})
	v, err := resilience.Execute(context.Background(),
		func(context.Context) (string, error) { return "", errors.New("fx: 503") }, cached)
	fmt.Println(v, err)
	// Output: rate 1.08 (cached) <nil>
}

// A guard that judges results reads them with Result.
func ExampleResult() {
	retryEmpty := resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		for {
			err := next.Run(ctx)
			if v, _ := resilience.Result[[]string](next); err != nil || len(v) > 0 {
				return err
			}
			fmt.Println("empty page, again")
		}
	})
	pages := [][]string{nil, {"payment 1"}}
	v, _ := resilience.Execute(context.Background(), func(context.Context) ([]string, error) {
		page := pages[0]
		pages = pages[1:]
		return page, nil
	}, retryEmpty)
	fmt.Println(v)
	// Output:
	// empty page, again
	// [payment 1]
}

// A Policy written against Func joins a pipeline of its type through Adapt.
func ExampleAdapt() {
	exclaim := resilience.PolicyFunc[string](func(next resilience.Func[string]) resilience.Func[string] {
		return func(ctx context.Context) (string, error) {
			v, err := next(ctx)
			return v + "!", err
		}
	})
	v, _ := resilience.Execute(context.Background(),
		func(context.Context) (string, error) { return "paid", nil },
		trace("outer"), resilience.Adapt[string](exclaim))
	fmt.Println(v)
	// Output:
	// enter outer
	// leave outer
	// paid!
}

func ExamplePolicyFunc() {
	upper := resilience.PolicyFunc[string](func(next resilience.Func[string]) resilience.Func[string] {
		return func(ctx context.Context) (string, error) {
			v, err := next(ctx)
			return v + "!", err
		}
	})
	v, _ := upper.Wrap(func(context.Context) (string, error) { return "paid", nil })(context.Background())
	fmt.Println(v)
	// Output: paid!
}

func ExampleDefaultOutcome() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the caller went away
	fmt.Println(resilience.DefaultOutcome(ctx, nil))
	fmt.Println(resilience.DefaultOutcome(ctx, fmt.Errorf("bank: %w", context.Canceled)))
	fmt.Println(resilience.DefaultOutcome(context.Background(), errors.New("bank: 500")))
	late, cancel := context.WithDeadline(context.Background(), time.Unix(1, 0))
	defer cancel() // the bank did not answer before the caller's deadline
	fmt.Println(resilience.DefaultOutcome(late, fmt.Errorf("bank: %w", context.DeadlineExceeded)))
	// Output:
	// success
	// ignored
	// failure
	// failure
}

// A result can be a failure without an error: here a response code 503.
func ExampleClassify() {
	type response struct{ code int }
	classify := resilience.Classify(func(_ context.Context, r response, err error) resilience.Outcome {
		if err == nil && r.code >= 500 {
			return resilience.Failure
		}
		return resilience.Unclassified // let the default decide
	})
	ctx := context.Background()
	fmt.Println(classify(ctx, response{200}, nil), classify(ctx, response{503}, nil))
	// Output: success failure
}

func ExampleClassifyErrors() {
	errDeclined := errors.New("bank: insufficient funds")
	classify := resilience.ClassifyErrors(func(_ context.Context, err error) resilience.Outcome {
		if errors.Is(err, errDeclined) {
			return resilience.Success // a business answer: the bank is healthy
		}
		return resilience.Unclassified
	})
	fmt.Println(classify(context.Background(), errDeclined), classify(context.Background(), errors.New("EOF")))
	// Output: success failure
}

func ExampleForResults() {
	always := resilience.ForResults[int](func(context.Context, error) resilience.Outcome { return resilience.Ignored })
	fmt.Println(always(context.Background(), 42, errors.New("x")))
	// Output: ignored
}

var errOpen = errors.New("breaker: circuit open")

func ExampleReject() {
	err := fmt.Errorf("transfer: %w", resilience.Reject("breaker", "bank", errOpen, 2*time.Second))
	fmt.Println(err)
	fmt.Println(resilience.IsRejected(err), errors.Is(err, errOpen))
	d, ok := resilience.RetryAfter(err)
	fmt.Println(d, ok)
	r, _ := resilience.AsRejection(err)
	fmt.Println(r.Policy, r.Name)
	// Output:
	// transfer: breaker: circuit open (name "bank", retry after 2s)
	// true true
	// 2s true
	// breaker bank
}

func ExampleWithRetryAfter() {
	err := resilience.WithRetryAfter(errors.New("fx: 503 Service Unavailable"), 30*time.Second)
	d, ok := resilience.RetryAfter(err)
	fmt.Println(err)
	fmt.Println(d, ok, resilience.IsRejected(err))
	// Output:
	// fx: 503 Service Unavailable (retry after 30s)
	// 30s true false
}

func ExampleSlogListener() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // keep the output stable
			}
			return a
		},
	}))
	listen := resilience.SlogListener(logger, resilience.SlogOptions{}).Func
	listen(resilience.Event{Kind: resilience.EventStateChange, Policy: "breaker", Name: "bank",
		From: "closed", To: "open", Degraded: true, Reason: "5 consecutive failures"})
	listen(resilience.Event{Kind: resilience.EventStateChange, Policy: "breaker", Name: "bank",
		From: "half-open", To: "closed"})
	// Output:
	// level=WARN msg="state change" policy=breaker name=bank from=closed to=open reason="5 consecutive failures"
	// level=INFO msg="state change" policy=breaker name=bank from=half-open to=closed
}

func ExampleDispatcher() {
	d := resilience.NewDispatcher(resilience.Listeners{resilience.OnEvent(func(e resilience.Event) {
		fmt.Println(e.Kind, e.From+"->"+e.To)
	})})
	// A policy enqueues while it holds its lock and flushes after releasing it.
	d.Enqueue(resilience.Event{Kind: resilience.EventStateChange, From: "closed", To: "open"})
	d.Enqueue(resilience.Event{Kind: resilience.EventStateChange, From: "open", To: "half-open"})
	d.Flush()
	// Per-call events are delivered at once, on the calling goroutine; a
	// policy builds them only when somebody wants them.
	if d.Wants(resilience.EventRejection) {
		d.Emit(resilience.Event{Kind: resilience.EventRejection})
	}
	// Output:
	// state_change closed->open
	// state_change open->half-open
	// rejection ->
}

// A listener for state changes only costs a call nothing: the policy never
// builds a per-call event for it.
func ExampleOnStateChange() {
	d := resilience.NewDispatcher(resilience.Listeners{resilience.OnStateChange(func(e resilience.Event) {
		fmt.Println(e.Name, e.From, "->", e.To)
	})})
	fmt.Println(d.Wants(resilience.EventOutcome), d.Wants(resilience.EventStateChange))
	d.Emit(resilience.Event{Kind: resilience.EventStateChange, Name: "bank", From: "closed", To: "open"})
	// Output:
	// false true
	// bank closed -> open
}

func ExampleConfigError() {
	var err error = &resilience.ConfigError{Component: "breaker", Name: "bank", Field: "FailureRate", Rule: "must be in (0, 1]", Value: 1.5}
	fmt.Println(err)
	var ce *resilience.ConfigError
	if errors.As(err, &ce) {
		fmt.Println(ce.Field, ce.Value)
	}
	// Output:
	// breaker "bank": FailureRate must be in (0, 1], got 1.5
	// FailureRate 1.5
}

func ExampleListeners_Emit() {
	ls := resilience.Listeners{
		{},
		resilience.OnKinds(func(e resilience.Event) { fmt.Println(e.Kind, e.Attempt) }, resilience.EventRetry),
	}
	ls.Emit(resilience.Event{Kind: resilience.EventRetry, Attempt: 2})
	ls.Emit(resilience.Event{Kind: resilience.EventTimeout}) // nobody listens
	// Output: retry 2
}

func ExampleOutcome_String() {
	fmt.Println(resilience.Success, resilience.Failure, resilience.Ignored, resilience.Unclassified)
	// Output: success failure ignored unclassified
}

func ExampleNewPanicError() {
	pe := resilience.NewPanicError(errors.New("boom"))
	fmt.Println(pe.Value, errors.Unwrap(pe))
	// Output: boom boom
}
