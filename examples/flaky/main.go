// Command flaky shows a small riprap pipeline at work against a flaky,
// sometimes slow function: a timeout bounds each attempt, a small retry
// written as a resilience.GuardFunc tries again, and a slog listener
// reports what the timeout policy saw. It is the smallest runnable picture
// of composition; examples/gateway is the real demo.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/timeout"
)

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "flaky:", err)
		os.Exit(1)
	}
}

func run(out io.Writer, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("no arguments expected, got %q", args)
	}
	logger := slog.New(slog.NewTextHandler(out, nil))
	rng := rand.New(rand.NewPCG(1, 2)) // fixed seed: the same run every time
	calls := 0
	flaky := func(ctx context.Context) (string, error) {
		calls++
		switch r := rng.IntN(3); r {
		case 0:
			return "", errors.New("connection reset by peer")
		case 1:
			select { // a slow reply: 200ms, more than the timeout allows
			case <-time.After(200 * time.Millisecond):
				return "slow reply", nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		return fmt.Sprintf("rate #%d", calls), nil
	}

	deadline, err := timeout.New(timeout.Config{
		Timeout: 50 * time.Millisecond, Name: "fx",
		Listeners: resilience.Listeners{resilience.SlogListener(logger, resilience.SlogOptions{})},
	})
	if err != nil {
		return err
	}
	// Built once, the retry outside and the timeout per attempt; the result
	// type is written here and nowhere else.
	pipeline := resilience.NewPipeline[string](retry(4, logger), deadline)
	for i := 1; i <= 3; i++ {
		v, err := pipeline.Execute(context.Background(), flaky)
		fmt.Fprintf(out, "quote %d: %q, err=%v\n", i, v, err)
	}
	fmt.Fprintf(out, "%d calls reached the flaky function\n", calls)
	return nil
}

// retry is a deliberately tiny retry written as a GuardFunc: it knows
// nothing of the result type, so it fits a pipeline of any. The real one,
// with backoff and budgets, lives in resilience/backoff.
func retry(attempts int, logger *slog.Logger) resilience.Guard {
	return resilience.GuardFunc(func(ctx context.Context, next resilience.Next) error {
		var err error
		for a := 1; a <= attempts; a++ {
			if err = next.Run(ctx); resilience.DefaultOutcome(ctx, err) != resilience.Failure {
				return err
			}
			logger.Info("attempt failed", "attempt", a, "error", err)
		}
		return err
	})
}
