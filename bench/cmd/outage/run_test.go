package main

import (
	"bytes"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestRunInFakeTime runs a small comparison end to end inside a synctest
// bubble, where every sleep, timer and deadline — the breakers', the health
// checker's and the dependency's — moves on fake time: the run is quick
// and its timing exact, so the checks below cannot be upset by a busy
// machine.
func TestRunInFakeTime(t *testing.T) {
	cfg := config{outage: 2 * time.Second, warmup: ms(500), tail: time.Second, callers: 8,
		timeout: ms(50), service: ms(1), think: ms(2), openWait: ms(500), phases: 2, seed: 1,
		probeEvery: ms(100), probeEveryUnhealthy: ms(50), probeTimeout: ms(25)}
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		all, err := run(&out, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != cfg.phases {
			t.Fatalf("got %d phases, want %d", len(all), cfg.phases)
		}
		for k, rs := range all {
			checkPhase(t, cfg, k, rs)
		}
		for _, want := range []string{"phase 1/2", "phase 2/2", "summary over 2 phases", "riprap+health"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, out.String())
			}
		}
	})
}

func checkPhase(t *testing.T, cfg config, k int, rs []result) {
	t.Helper()
	byName := map[string]result{}
	for _, r := range rs {
		byName[r.contender] = r
	}
	none, health := byName["none"], byName["riprap+health"]
	sched := scheduleFor(cfg, k)
	// Unprotected, each caller hangs a call timeout, pauses, and goes again.
	iteration := cfg.timeout + cfg.think*3/2
	if min := int64(cfg.callers) * int64((sched.end-sched.start)/iteration); none.reached < min {
		t.Errorf("phase %d: none: %d calls reached the dead dependency, want at least %d", k, none.reached, min)
	}
	if none.p99 < cfg.timeout {
		t.Errorf("phase %d: none: p99 %v, want at least the call timeout %v", k, none.p99, cfg.timeout)
	}
	for _, r := range rs[1:] {
		if !r.recovery.opened || !r.recovery.closed {
			t.Errorf("phase %d: %s: recovery %+v, want opened and closed again", k, r.contender, r.recovery)
		}
		if r.reached < int64(cfg.callers) || r.reached >= none.reached {
			t.Errorf("phase %d: %s: %d calls reached the dead dependency, want in [%d, %d)",
				k, r.contender, r.reached, cfg.callers, none.reached)
		}
		if r.successes == 0 || r.calls <= none.calls {
			t.Errorf("phase %d: %s: %d successes in %d calls (none: %d calls), want successes, and more calls than none as rejections are quick",
				k, r.contender, r.successes, r.calls, none.calls)
		}
	}
	// The health checker notices the outage before the open wait ends, so
	// no half-open probe reaches the dead dependency; it notices the
	// recovery within an unhealthy interval plus a hung probe.
	if max := int64(cfg.callers + tripAfter); health.reached > max {
		t.Errorf("phase %d: riprap+health: %d calls reached the dead dependency, want at most %d", k, health.reached, max)
	}
	if health.probes == 0 {
		t.Errorf("phase %d: riprap+health: no health probe counted during the outage", k)
	}
	limit := cfg.probeEveryUnhealthy + cfg.probeTimeout + cfg.service + cfg.think*3
	if health.recovery.delay > limit {
		t.Errorf("phase %d: riprap+health: closed %v after recovery, want at most %v", k, health.recovery.delay, limit)
	}
}
