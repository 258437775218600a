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

// trace is a pass-through policy that prints when a call enters and leaves it.
func trace(name string) resilience.Policy[string] {
	return resilience.PolicyFunc[string](func(next resilience.Func[string]) resilience.Func[string] {
		return func(ctx context.Context) (string, error) {
			fmt.Println("enter", name)
			defer fmt.Println("leave", name)
			return next(ctx)
		}
	})
}

// The first policy of a pipeline is the outermost: it sees the call first and
// the result last.
func ExampleNewPipeline() {
	p, err := resilience.NewPipeline(trace("limit"), trace("breaker"), trace("timeout"))
	if err != nil {
		panic(err)
	}
	call := p.Wrap(func(context.Context) (string, error) {
		fmt.Println("call the bank")
		return "ok", nil
	})
	v, err := call(context.Background())
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

func ExampleNewPipeline_nilPolicy() {
	_, err := resilience.NewPipeline(trace("a"), nil)
	fmt.Println(err)
	fmt.Println(errors.Is(err, resilience.ErrNilPolicy))
	// Output:
	// resilience: nil Policy: policy 2 of 2
	// true
}

func ExamplePipeline_Execute() {
	p := resilience.Must(resilience.NewPipeline(trace("outer")))
	v, _ := p.Execute(context.Background(), func(context.Context) (string, error) { return "done", nil })
	fmt.Println(v, p.Len())
	// Output:
	// enter outer
	// leave outer
	// done 1
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

func ExampleMust() {
	defer func() { fmt.Println("recovered:", recover()) }()
	resilience.Must(resilience.NewPipeline[int](nil))
	// Output:
	// recovered: resilience: nil Policy: policy 1 of 1
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
	cancel()
	fmt.Println(resilience.DefaultOutcome(ctx, nil))
	fmt.Println(resilience.DefaultOutcome(ctx, fmt.Errorf("bank: %w", context.Canceled)))
	fmt.Println(resilience.DefaultOutcome(context.Background(), errors.New("bank: 500")))
	// Output:
	// success
	// ignored
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
	listen := resilience.SlogListener(logger, resilience.SlogOptions{})
	listen(resilience.Event{Kind: resilience.EventStateChange, Policy: "breaker", Name: "bank",
		From: "closed", To: "open", Degraded: true, Reason: "5 consecutive failures"})
	listen(resilience.Event{Kind: resilience.EventStateChange, Policy: "breaker", Name: "bank",
		From: "half-open", To: "closed"})
	// Output:
	// level=WARN msg="state change" policy=breaker name=bank from=closed to=open reason="5 consecutive failures"
	// level=INFO msg="state change" policy=breaker name=bank from=half-open to=closed
}

func ExampleDispatcher() {
	d := resilience.NewDispatcher(resilience.Listeners{func(e resilience.Event) {
		fmt.Println(e.Kind, e.From, "->", e.To)
	}})
	// A policy enqueues while it holds its lock and flushes after releasing it.
	d.Enqueue(resilience.Event{Kind: resilience.EventStateChange, From: "closed", To: "open"})
	d.Enqueue(resilience.Event{Kind: resilience.EventStateChange, From: "open", To: "half-open"})
	d.Flush()
	fmt.Println(d.Active())
	// Output:
	// state_change closed -> open
	// state_change open -> half-open
	// true
}

func ExampleListeners_Emit() {
	ls := resilience.Listeners{nil, func(e resilience.Event) { fmt.Println(e.Kind, e.Attempt) }}
	ls.Emit(resilience.Event{Kind: resilience.EventRetry, Attempt: 2})
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
