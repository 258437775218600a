// Command gateway is riprap's outage drill: it starts a simulated bank,
// exchange-rate service and transaction log on loopback, sends hundreds of
// concurrent payments through the payments gateway while a scripted
// scenario breaks and heals those services, and then puts the run beside
// the very same scenario run with plain HTTP clients that have only a
// timeout. The report checks that the protected run lost no payment,
// debited nobody twice and logged every payment exactly once.
//
//	go run ./examples/gateway            # the default drill, about 30s
//	go run ./examples/gateway -duration 60s -report drill.html -listen 127.0.0.1:8080
//	go run ./examples/gateway -scenario examples/gateway/scenarios/flapping-bank.json
//
// The unprotected run goes first, then the protected one; each prints a
// progress line per second and logs every state change (slog text, or JSON
// lines with -json; the progress lines and the report stay text).
//
// The same -seed gives the same fault schedule and the same payments at
// the same offsets. The injectors draw their random faults (lost replies)
// in the order requests arrive, which concurrency varies a little, so
// counts differ slightly from run to run; the invariants do not.
//
// The engine (scenario.go, workload.go, run.go, sampler.go, check.go) and
// the report (summary.go, report.go, html.go) are separate from this file
// so that tests can run a short drill and check its report.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	duration    time.Duration
	concurrency int
	seed        uint64
	scenario    string
	json        bool
	reportFile  string
	listen      string
	baseline    bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.duration, "duration", 0, "length of each run; the scenario's windows scale with it (default: the scenario's, 12s for built-ins)")
	fs.IntVar(&o.concurrency, "concurrency", 200, "payment goroutines")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the payment mix and the injected faults")
	fs.StringVar(&o.scenario, "scenario", "drill", "built-in scenario ("+joinNames()+") or a JSON scenario file")
	fs.BoolVar(&o.json, "json", false, "log state changes as JSON instead of text")
	fs.StringVar(&o.reportFile, "report", "", "write a self-contained HTML report to this file")
	fs.StringVar(&o.listen, "listen", "", "serve the gateway's status JSON on this address while the protected run lasts")
	fs.BoolVar(&o.baseline, "baseline", true, "also run the scenario without protection, for the comparison")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.duration < 0:
		return o, fmt.Errorf("-duration must not be negative, got %s", o.duration)
	case o.concurrency < 1 || o.concurrency > 10000:
		return o, fmt.Errorf("-concurrency must be in [1, 10000], got %d", o.concurrency)
	}
	return o, nil
}

func joinNames() string {
	s := ""
	for i, n := range builtinNames() {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}

// run is the whole command, writing to out; it fails when the protected run
// breaks an invariant.
func run(ctx context.Context, out io.Writer, args []string) error {
	o, err := parseFlags(args, out)
	if err != nil {
		return err
	}
	sc, err := loadScenario(o.scenario)
	if err != nil {
		return err
	}
	sc = sc.scaled(o.duration)
	if err := sc.validate(); err != nil {
		return fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	cfg := runConfig{scenario: sc, seed: o.seed, concurrency: o.concurrency, logger: newLogger(out, o.json), progress: out}
	if o.listen != "" {
		serve, stop, err := statusServer(o.listen, out)
		if err != nil {
			return err
		}
		defer stop()
		cfg.serve = serve
	}
	rep, err := drill(ctx, cfg, o.baseline, out)
	if err != nil {
		return err
	}
	rep.write(out)
	if o.reportFile != "" {
		if err := writeHTMLFile(o.reportFile, rep); err != nil {
			return err
		}
		fmt.Fprintf(out, "HTML report written to %s\n", o.reportFile)
	}
	if !rep.passed() {
		return errors.New("the protected run broke an invariant")
	}
	return nil
}

// newLogger logs readable text, or JSON lines.
func newLogger(out io.Writer, json bool) *slog.Logger {
	if json {
		return slog.New(slog.NewJSONHandler(out, nil))
	}
	return slog.New(slog.NewTextHandler(out, nil))
}

// drill runs the scenario without protection (when baseline is set), then
// with it, and builds the report.
func drill(ctx context.Context, cfg runConfig, baseline bool, out io.Writer) (*report, error) {
	var results []*runResult
	for _, protected := range []bool{false, true} {
		if !protected && !baseline {
			continue
		}
		c := cfg
		c.protected = protected
		fmt.Fprintf(out, "--- %s: scenario %q for %s, %d payments/s\n", runName(protected), cfg.scenario.Name, cfg.scenario.Duration, cfg.scenario.Rate)
		r, err := runScenario(ctx, c)
		if err != nil {
			return nil, err
		}
		results = append(results, r)
	}
	return newReport(cfg.scenario, cfg.seed, cfg.concurrency, results...), nil
}

func runName(protected bool) string {
	if protected {
		return "with riprap (rate limit → breaker → retry → timeout, FX fallback, log outbox, health checks, reconciler)"
	}
	return "without protection (plain HTTP clients, a timeout per call)"
}

// statusServer serves the current gateway's status on addr; serve installs
// a gateway's handler until the func it returns is called.
func statusServer(addr string, out io.Writer) (serve func(http.Handler) func(), stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("-listen: %w", err)
	}
	h, serve := switchHandler()
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: h}
	go func() { _ = srv.Serve(ln) }()
	fmt.Fprintf(out, "serving the gateway status on http://%s/\n", ln.Addr())
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	return serve, stop, nil
}

// switchHandler serves whatever handler is installed with serve, and 503
// while none is (during the unprotected run, which has no gateway).
func switchHandler() (http.Handler, func(http.Handler) func()) {
	var current atomic.Pointer[http.Handler]
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := current.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		http.Error(w, "no gateway is running now (the unprotected run has none)", http.StatusServiceUnavailable)
	})
	serve := func(next http.Handler) func() {
		current.Store(&next)
		return func() { current.Store(nil) }
	}
	return h, serve
}
