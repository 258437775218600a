// Command gateway is riprap's outage drill: it starts a simulated bank,
// exchange-rate service and transaction log on loopback, sends hundreds of
// concurrent payments through the payments gateway while a scripted
// scenario breaks and heals those services, and then puts the run beside
// the very same scenario run with plain HTTP clients that have only a
// timeout. The report checks that the protected run lost no payment,
// debited nobody twice, logged every payment exactly once, never held a
// working dependency down, and never had a worse tail than no protection.
//
//	go run ./examples/gateway            # the default drill, about 30s
//	go run ./examples/gateway -duration 60s -report drill.html -listen 127.0.0.1:8080
//	        # open http://127.0.0.1:8080/ for the live dashboard; /metrics for Prometheus
//	go run ./examples/gateway -scenario examples/gateway/scenarios/flapping-bank.json
//	go run ./examples/gateway -scenario slow-bank -json > drill.jsonl
//	go run ./examples/gateway -scenario two-banks   # failover to a second bank
//
// The gateway keeps its ledger and outbox in SQLite (pure Go, nothing to
// install): a fresh database in a temporary directory removed at exit, or
// the file -store names, kept for inspection (-store :memory: runs it on
// the in-memory store instead, for comparison).
//
// A two-bank scenario (the built-in two-banks, or a file with "banks": 2)
// gives the gateway a second bank, bank2, to fail over to, and runs the
// scenario once more, with riprap and the primary bank only, so that the
// report can say how many payments failed over, compare the success
// rates, and check against both banks' own records that no payment was
// debited at both.
//
// The unprotected run goes first, then the protected one; each prints a
// progress line per second and logs every state change. With -json every
// line of standard output is one JSON object with a "type" field: "run",
// "progress", "log" (slog records), "notice" and, last, "report".
//
// The same -seed gives the same fault schedule and the same payments at
// the same offsets. The injectors draw their random faults (lost replies)
// in the order requests arrive, which concurrency varies a little, so
// counts differ slightly from run to run; the invariants do not.
//
// The engine (scenario*.go, bounds.go, workload.go, run.go, sampler.go,
// check*.go) and the report (summary.go, report*.go, html.go) are separate
// from this file so that tests can run a short drill and check its report.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/riprap-go/riprap/payments/gateway"
	"github.com/riprap-go/riprap/payments/sqlitestore"
	"github.com/riprap-go/riprap/payments/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Stderr, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		stop()
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
	store       string
	baseline    bool
}

// parseFlags parses args; usage and flag errors go to stderr. -h and -help
// return flag.ErrHelp.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.duration, "duration", 0, "length of each run; the scenario's windows scale with it (default: the scenario's, 12s for built-ins)")
	fs.IntVar(&o.concurrency, "concurrency", 200, "payment goroutines")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the payment mix and the injected faults")
	fs.StringVar(&o.scenario, "scenario", "drill", "built-in scenario ("+joinNames()+") or a JSON scenario file")
	fs.BoolVar(&o.json, "json", false, "print every line of standard output as JSON: progress, logs, notices and the report")
	fs.StringVar(&o.reportFile, "report", "", "write a self-contained HTML report to this file")
	fs.StringVar(&o.listen, "listen", "", "serve, on this address (e.g. 127.0.0.1:8080), while the drill runs: the live dashboard of the gateway's breakers, limiters, health checks and retry budget at /dashboard/, Prometheus metrics at /metrics, and the gateway's status JSON at "+gateway.PathStatus)
	fs.StringVar(&o.store, "store", "", "keep the gateway's SQLite database in this new file, and a two-bank scenario's primary-only run's beside it, named after that run (default: temporary ones, removed at exit); "+memoryStore+" for the in-memory store, which is not durable")
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
	return o, checkDuration(o.duration)
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
// breaks an invariant or a check. -h prints the usage to stderr and
// succeeds.
func run(ctx context.Context, out, stderr io.Writer, args []string) error {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
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
	pr := newPrinter(out, o.json)
	opener, storeName, cleanup, err := sqliteStore(o.store)
	if err != nil {
		return err
	}
	defer cleanup()
	cfg := runConfig{scenario: sc, seed: o.seed, concurrency: o.concurrency, logger: newLogger(pr), progress: pr,
		store: opener, storeName: storeName}
	if o.listen != "" {
		mon, stop, err := statusServer(o.listen, pr)
		if err != nil {
			return err
		}
		defer stop()
		cfg.monitor = mon
	}
	rep, err := drill(ctx, cfg, o.baseline, pr)
	if err != nil {
		return err
	}
	if o.reportFile != "" {
		if err := writeHTMLFile(o.reportFile, rep); err != nil {
			return err
		}
		pr.info("HTML report written to "+o.reportFile, notice{Path: o.reportFile})
	}
	rep.print(pr) // last, so that the report is the last line of -json
	if !rep.passed() {
		return errors.New("the protected run failed a check (see the report)")
	}
	return nil
}

// drillSync is the durability of the drill's commits: synchronous=NORMAL,
// which survives the process being killed — the crash the gateway is built
// for — but not a power loss, and spares each commit an fsync. The drill's
// database is new for each run and never reopened, so a power loss has
// nothing to lose; with synchronous=FULL, on a busy shared disk, the
// protected run's payments would wait on fsyncs that the unprotected run
// (which records nothing) never pays, and the comparison would be about
// the disk. A production gateway keeps sqlitestore's default, FULL.
const drillSync = sqlitestore.SyncNormal

// memoryStore is the -store value that leaves the gateway on its
// in-memory store, to compare with SQLite.
const memoryStore = ":memory:"

// sqliteStore returns how each protected run opens its SQLite store: at
// path, which must not exist yet (a drill starts from an empty ledger, as
// its simulated bank does), or in a temporary directory that cleanup
// removes. For memoryStore it returns a nil opener: the gateway's own
// in-memory store.
//
// Every run gets a database of its own (see runDatabase): a two-bank
// scenario runs the gateway twice with the same seed, hence the same
// idempotency keys, and a second run on the first run's ledger would
// answer most of its payments from it without calling any bank.
func sqliteStore(path string) (open storeOpener, name string, cleanup func(), err error) {
	cleanup = func() {}
	switch {
	case path == memoryStore:
		return nil, "", cleanup, nil // the gateway makes its own
	case path == "":
		dir, err := os.MkdirTemp("", "riprap-drill-*")
		if err != nil {
			return nil, "", nil, fmt.Errorf("-store: %w", err)
		}
		path, name, cleanup = filepath.Join(dir, "drill.db"), "SQLite ("+drillSync.String()+"), temporary", func() { _ = os.RemoveAll(dir) }
	default:
		if err := mustBeNew(path); err != nil {
			return nil, "", nil, err
		}
		name = "SQLite (" + drillSync.String() + "), " + path
	}
	open = func(run string) (store.Store, func() error, error) {
		file := runDatabase(path, run)
		if err := mustBeNew(file); err != nil {
			return nil, nil, err
		}
		st, err := sqlitestore.Open(file, sqlitestore.Config{Sync: drillSync})
		if err != nil {
			return nil, nil, err
		}
		return st, st.Close, nil
	}
	return open, name, cleanup, nil
}

// runDatabase is the database file of a run: path itself for the main
// protected run, a sibling named after the run for any other
// ("drill-protected-one-bank.db" beside "drill.db").
func runDatabase(path, run string) string {
	if run == runLabel(true, false) {
		return path
	}
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "-" + run + ext
}

// mustBeNew fails when path exists (or cannot be looked at).
func mustBeNew(path string) error {
	if _, err := os.Stat(path); err == nil || !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("-store %s: the drill needs a new file (its simulated bank starts empty); remove it or name another", path)
	}
	return nil
}

// drill runs the scenario without protection (when baseline is set), then
// with it, and builds the report. A two-bank scenario runs, between the
// two, with riprap and the primary bank only, for the comparison that
// shows what failover brings; the monitor shows the last run only, whose
// breakers its registry keeps.
func drill(ctx context.Context, cfg runConfig, baseline bool, pr *printer) (*report, error) {
	type spec struct{ protected, oneBank bool }
	var specs []spec
	if baseline {
		specs = append(specs, spec{})
	}
	if cfg.scenario.twoBanks() {
		specs = append(specs, spec{protected: true, oneBank: true})
	}
	specs = append(specs, spec{protected: true})
	var results []*runResult
	for _, sp := range specs {
		c := cfg
		c.protected, c.oneBank = sp.protected, sp.oneBank
		if sp.oneBank {
			c.monitor = nil
		}
		h := runHeader{Run: runLabel(sp.protected, sp.oneBank), Title: runName(sp.protected, sp.oneBank), Scenario: cfg.scenario.Name,
			Seconds: cfg.scenario.Duration.Seconds(), Rate: cfg.scenario.Rate, Protected: sp.protected}
		if sp.protected {
			h.Store = storeLabel(cfg.storeName)
		}
		pr.header(h)
		r, err := runScenario(ctx, c)
		if err != nil {
			return nil, err
		}
		results = append(results, r)
	}
	rep := newReport(cfg.scenario, cfg.seed, cfg.concurrency, results...)
	rep.store = storeLabel(cfg.storeName)
	return rep, nil
}

func storeLabel(name string) string {
	if name == "" {
		return "in memory"
	}
	return name
}

func runLabel(protected, oneBank bool) string {
	switch {
	case oneBank:
		return "protected-one-bank"
	case protected:
		return "protected"
	}
	return "unprotected"
}

func runName(protected, oneBank bool) string {
	switch {
	case oneBank:
		return "with riprap and the primary bank only (what failover is compared with)"
	case protected:
		return "with riprap (rate limit, breaker, retry and timeouts per dependency, FX fallback, log outbox, health checks, reconciler)"
	}
	return "without protection (plain HTTP clients, a timeout per call)"
}
