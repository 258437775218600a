package dst

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

var (
	worldsFlag = flag.Int("worlds", 0, "dst: how many worlds TestWorlds runs (0: the CI budget, or -rapid.checks when given)")
	worldFlag  = flag.String("world", "", "dst: a world file (JSON) for TestReplay to run")
)

// worldCount is how many worlds TestWorlds runs: -worlds, else an explicit
// -rapid.checks, else the CI budget.
func worldCount() int {
	if *worldsFlag > 0 {
		return *worldsFlag
	}
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "rapid.checks" })
	if explicit {
		return 0
	}
	return ciWorlds
}

// TestWorlds draws worlds with rapid, runs each and checks every
// invariant. A failing world is shrunk by rapid, printed as JSON and as a
// drill scenario, and written to a file with the command that replays it.
func TestWorlds(t *testing.T) {
	n := worldCount()
	if n > 0 {
		old := flag.Lookup("rapid.checks").Value.String()
		require.NoError(t, flag.Set("rapid.checks", strconv.Itoa(n)))
		defer func() { _ = flag.Set("rapid.checks", old) }()
	} else {
		n, _ = strconv.Atoi(flag.Lookup("rapid.checks").Value.String())
	}
	// rapid draws the run from its seed: fix one, unless given, so that a
	// failure can print the command that replays the whole run.
	seed, _ := strconv.ParseUint(flag.Lookup("rapid.seed").Value.String(), 10, 64)
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())>>1 | 1
		require.NoError(t, flag.Set("rapid.seed", strconv.FormatUint(seed, 10)))
		defer func() { _ = flag.Set("rapid.seed", "0") }()
	}
	defer func() {
		if t.Failed() {
			t.Logf("replay this run: go test%s ./payments/dst/ -run '^TestWorlds$' -worlds %d -rapid.seed=%d", raceFlag, n, seed)
		}
	}()
	var worlds, payments int
	var simulated time.Duration
	met := map[string]int{} // how many worlds met each thing, so that a green run is seen to mean something
	start := time.Now()
	rapid.Check(t, func(rt *rapid.T) {
		w := Generator(ciSize).Draw(rt, "world")
		o := Run(t, w)
		worlds++
		payments += len(o.Payments)
		simulated += w.Duration.D()
		tally(met, o)
		if vs := Check(o); len(vs) > 0 {
			rt.Fatal(failure(w, vs))
		}
	})
	real := time.Since(start)
	t.Logf("%d worlds (%d payments, %s simulated) in %s: %.1f worlds/s of real time", worlds, payments,
		simulated.Round(time.Second), real.Round(time.Millisecond), float64(worlds)/real.Seconds())
	t.Logf("worlds that met: %v", met)
}

// tally counts what a world met: crashes, breakers opening, payments left
// pending then resolved, a full outbox, dependencies judged by the
// never-held-open invariant.
func tally(met map[string]int, o *Outcome) {
	seen := map[string]bool{}
	seen["restart"] = o.Gateways > 1
	for _, e := range o.Events {
		seen["breaker open"] = seen["breaker open"] || e.To == "open" || e.To == "held_open"
	}
	for _, a := range o.Answers {
		seen["answer "+a.State] = true
		seen["store full"] = seen["store full"] || strings.Contains(a.Reason, "outbox is full")
	}
	seen["two banks"] = o.World.Bank2 != nil
	seen["bank2 used"] = len(o.Transfers2) > 0
	for _, r := range o.Records { // bank comes first unless weighted: bank2 only by failover
		seen["failed over"] = seen["failed over"] || (r.Bank == "bank2" && len(o.World.Gateway.BankWeights) == 0)
	}
	for _, dep := range o.World.deps() {
		f := o.World.faults(dep)
		seen["in-time "+dep+" judged"] = !f.noisy() && f.Latency.D()+f.Jitter.D() < o.World.Gateway.settle().callTimeout(dep)
	}
	for k, v := range seen {
		if v {
			met[k]++
		}
	}
}

// failure describes a world that broke invariants: what broke, the world
// (JSON), and where it was written with the one-line command that replays
// it.
func failure(w World, vs []Violation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "the world broke %d invariants:\n", len(vs))
	for _, v := range vs {
		fmt.Fprintf(&b, "  - %s\n", v)
	}
	if path, err := saveWorld(w); err == nil {
		fmt.Fprintf(&b, "replay: go test ./payments/dst/ -run '^TestReplay$' -world %s\n", path)
		fmt.Fprintf(&b, "drill:  go run ./examples/gateway -scenario %s\n", strings.TrimSuffix(path, ".json")+".scenario.json")
	} else {
		fmt.Fprintf(&b, "(could not save the world: %v)\n", err)
	}
	fmt.Fprintf(&b, "world: %s\n", w.JSON())
	fmt.Fprintf(&b, "as a drill scenario (what the drill can play of it): %s", w.Scenario("dst-failure"))
	return b.String()
}

// saveWorld writes w, and its drill scenario, under the temporary
// directory, named by its content.
func saveWorld(w World) (string, error) {
	dir := filepath.Join(os.TempDir(), "riprap-dst")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	js := w.JSON()
	name := fmt.Sprintf("world-%016x", hash64(w.Seed, js))
	path := filepath.Join(dir, name+".json")
	if err := os.WriteFile(path, []byte(js+"\n"), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".scenario.json"), append(w.Scenario(name), '\n'), 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// TestReplay runs the world in the file given with -world and checks it.
func TestReplay(t *testing.T) {
	if *worldFlag == "" {
		t.Skip("no -world file given")
	}
	data, err := os.ReadFile(*worldFlag)
	require.NoError(t, err)
	w, err := ReadWorld(data)
	require.NoError(t, err)
	o := Run(t, w)
	d, err := o.Digest()
	require.NoError(t, err)
	t.Logf("digest %s: %d payments, %d answers, %d gateways", d, len(o.Payments), len(o.Answers), o.Gateways)
	for _, v := range Check(o) {
		t.Errorf("%s", v)
	}
}
