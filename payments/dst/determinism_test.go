package dst

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// richWorld uses every kind of fault at once: noise, lost replies that
// close the connection, every window kind, the log failing entries and
// batches, a burst load, impatient clients, two crashes and a tuned
// configuration.
func richWorld() World {
	w := World{Seed: 42, Duration: Duration(40 * time.Second),
		Load:   Load{Shape: Bursts, Rate: 4, Peak: 40, Every: ms(10000), Length: ms(1500), Cross: 40, Broke: 10, Reused: 3},
		Client: Client{Timeout: ms(1500) + Duration(13*time.Microsecond), Retries: 3, RetryWait: ms(700)},
		Bank: Faults{LostReplyBP: 500, CloseOnLost: true, Latency: ms(3), Jitter: ms(40), Windows: []Window{
			{Kind: Hang, Start: ms(5000), End: ms(8000)}, {Kind: Flap, Start: ms(20000), End: ms(26000), Period: ms(700)}}},
		FX: Faults{ErrorBP: 300, Latency: ms(2), Jitter: ms(5), Windows: []Window{
			{Kind: Slowdown, Start: ms(9000), End: ms(14000), Extra: ms(1300)}}},
		Log: Faults{AppendErrorBP: 3000, BatchErrorBP: 500, Latency: ms(1), Jitter: ms(3), Windows: []Window{
			{Kind: Outage, Start: ms(12000), End: ms(18000)}, {Kind: Errors, Start: ms(30000), End: ms(35000), ErrorBP: 5000}}},
		Crashes: []Crash{{At: ms(7000), Downtime: ms(1200)}, {At: ms(27000)}},
	}
	w.Gateway = Config{ClaimTTL: ms(20000), BankTimeout: ms(800), BankAttempts: 2, ReconcileInterval: ms(300),
		LogBatchSize: 7, LogMaxInFlight: 3, MaxOutbox: 60, HealthInterval: ms(400), CloseOnHealthy: true,
		BankBreaker: Breaker{FailureRate: 0.5, WindowSize: 20, MinimumCalls: 5, OpenWait: ms(900), MaxProbes: 2, SuccessesToClose: 2}}
	return w
}

// twoBankWorld is the rich world with a second bank: the first has an
// outage and a hang as well as its lost replies, the second a slowdown
// past its call timeout, and they share the first tries 3 to 1.
func twoBankWorld() World {
	w := richWorld()
	w.Bank.Windows = append(w.Bank.Windows, Window{Kind: Outage, Start: ms(10000), End: ms(16000)})
	w.Bank2 = &Faults{Latency: ms(4), Jitter: ms(20), Windows: []Window{
		{Kind: Slowdown, Start: ms(30000), End: ms(33000), Extra: ms(900)}}}
	w.Gateway.BankWeights = []int{3, 1}
	return w
}

// TestSameWorldSameRun runs worlds twice each and requires the same
// outcome, bit for bit (its digest), with no step left to the Go
// scheduler: the rich worlds above and worlds drawn by the generator.
func TestSameWorldSameRun(t *testing.T) {
	worlds := []World{richWorld(), twoBankWorld()}
	for i := range determinismWorlds {
		worlds = append(worlds, Generator(ciSize).Example(i))
	}
	for i, w := range worlds {
		first, second := Run(t, w), Run(t, w)
		require.Empty(t, first.Err, "world %d", i)
		assert.Zero(t, first.Ties, "world %d: steps ordered by the scheduler", i)
		assert.Positive(t, first.Grants, "world %d", i)
		if !assert.Equal(t, digest(t, first), digest(t, second), "world %d: two runs differ", i) {
			diffOutcomes(t, first, second)
		}
	}
}

func digest(t *testing.T, o *Outcome) string {
	t.Helper()
	d, err := o.Digest()
	require.NoError(t, err)
	return d
}

// diffOutcomes logs the first lines where two outcomes of one world part.
func diffOutcomes(t *testing.T, a, b *Outcome) {
	t.Helper()
	ja, errA := json.MarshalIndent(a, "", " ")
	jb, errB := json.MarshalIndent(b, "", " ")
	require.NoError(t, errors.Join(errA, errB))
	la, lb := strings.Split(string(ja), "\n"), strings.Split(string(jb), "\n")
	shown := 0
	for i := 0; i < min(len(la), len(lb)) && shown < 10; i++ {
		if la[i] != lb[i] {
			t.Logf("line %d: %s | %s", i, la[i], lb[i])
			shown++
		}
	}
}

// TestDigestTellsRunsApart shows the determinism check can fail: another
// seed, or one answer changed, gives another digest.
func TestDigestTellsRunsApart(t *testing.T) {
	w := plainWorld(10)
	o := Run(t, w)
	other := w
	other.Seed++
	assert.NotEqual(t, digest(t, o), digest(t, Run(t, other)), "another seed, another run")
	d := digest(t, o)
	require.NotEmpty(t, o.Answers)
	o.Answers[len(o.Answers)/2].Reason += "."
	assert.NotEqual(t, d, digest(t, o), "one answer changed")
}

// TestRichWorldKeepsEveryInvariant runs the rich world and checks it,
// and that it really met its faults.
func TestRichWorldKeepsEveryInvariant(t *testing.T) {
	o := Run(t, richWorld())
	assert.Empty(t, Check(o))
	assert.Equal(t, 3, o.Gateways, "two crashes, two restarts")
	assert.Positive(t, o.Injected["bank"].LostReplies)
	assert.Positive(t, o.Injected["log"].Outages)
	assert.Positive(t, o.Log.Faults)
	assert.Positive(t, o.Log.BatchFaults)
	states := map[string]int{}
	for _, a := range o.Answers {
		states[a.State]++
	}
	for _, s := range []string{"succeeded", "declined", "rejected", "pending_reconciliation", ""} {
		assert.Positive(t, states[s], "some answers %q", s)
	}
}

// TestTwoBankWorldKeepsEveryInvariant runs the two-bank world and checks
// it, and that payments really went to both banks.
func TestTwoBankWorldKeepsEveryInvariant(t *testing.T) {
	o := Run(t, twoBankWorld())
	assert.Empty(t, Check(o))
	at := map[string]int{}
	for _, d := range o.debits() {
		at[d.bank]++
	}
	assert.Positive(t, at["bank"], "debits at bank")
	assert.Positive(t, at["bank2"], "debits at bank2")
	assert.Positive(t, o.Injected["bank"].Outages)
	assert.Positive(t, o.Injected["bank2"].Requests)
}
