package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(1)
	}
}

// parseFlags reads a nodeConfig from the command line.
func parseFlags(args []string, errOut io.Writer) (nodeConfig, error) {
	fs := flag.NewFlagSet("fleet", flag.ContinueOnError)
	fs.SetOutput(errOut)
	var c nodeConfig
	fs.StringVar(&c.Instance, "instance", "", "this process's name in the fleet (required, unique)")
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:0", "address to serve the gateway on")
	fs.StringVar(&c.Bank, "bank", "", "base URL of the bank (required)")
	fs.StringVar(&c.FX, "fx", "", "base URL of the FX service (required)")
	fs.StringVar(&c.Log, "log", "", "base URL of the transaction log (required)")
	fs.StringVar(&c.Postgres, "postgres", "", "DSN of the shared PostgreSQL ledger (required)")
	fs.StringVar(&c.Schema, "schema", "", "schema of the ledger (default pgstore's)")
	fs.StringVar(&c.Redis, "redis", "", "address of the Redis holding the fleet's state (required)")
	fs.StringVar(&c.Prefix, "prefix", "riprap:fleet:", "Redis key prefix: processes sharing it form one fleet")
	fs.IntVar(&c.Rate, "rate", 50, "the bank's limit on transfers per second, for the whole fleet")
	fs.IntVar(&c.Burst, "burst", 10, "the bank's burst, for the whole fleet")
	fs.IntVar(&c.Fleet, "fleet", 3, "number of processes; each keeps rate/fleet while Redis is down")
	fs.DurationVar(&c.ClaimTTL, "claim-ttl", 10*time.Second, "how long a payment stays claimed by a process that died")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return c, c.validate()
}

// run serves one gateway of the fleet until ctx ends. It writes the ready
// line (with its URL) and then its events to out.
func run(ctx context.Context, cfg nodeConfig, out io.Writer) error {
	ew := &eventWriter{instance: cfg.Instance, w: out}
	n, err := startNode(ctx, cfg, ew.emit)
	if err != nil {
		return err
	}
	ew.mu.Lock()
	fmt.Fprintf(out, "%s%s\n", readyPrefix, n.URL())
	ew.mu.Unlock()
	served := make(chan error, 1)
	go func() { served <- n.serve() }()
	select {
	case err = <-served:
	case <-ctx.Done():
	}
	n.close()
	if err == nil {
		err = <-served
	}
	return err
}
