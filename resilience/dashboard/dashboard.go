package dashboard

import (
	"encoding/json"
	"net/http"
	"slices"
	"sync"

	"github.com/riprap-go/riprap/resilience"
	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/health"
)

// Dashboard serves a live view of resilience components: an HTML page, a
// stream of their state changes and snapshots (Server-Sent Events), and
// their snapshot as JSON. It is an [http.Handler] with three routes:
//
//	GET /          the page (one embedded file; it loads nothing else)
//	GET /events    the event stream; ?max=30s ends it after 30s
//	GET /snapshot  a [Snapshot] as JSON, with the timelines
//
// Other methods get 405 and other paths 404. Mounted under a prefix, strip
// the prefix and keep the trailing slash (the page asks for "events"
// relative to itself):
//
//	mux.Handle("/dashboard/", http.StripPrefix("/dashboard", d))
//
// The sampler, run by [Dashboard.Start] until [Dashboard.Close], reads
// every snapshot each Config.Interval and streams it, along with every
// state change it finds. Components take their listeners at construction
// only, so the sampler finds changes by comparing snapshots; a change
// undone between two samples (a breaker half-open for 3 ms) is missed
// then. Put [Dashboard.Listener] in their Config.Listeners to see every
// transition exactly and at once, and show components built that way with
// [Dashboard.Add] (or, for breakers, through a Registry the dashboard
// reads).
//
// Build one with [New]; the zero value is not usable. A Dashboard is safe
// for concurrent use.
type Dashboard struct {
	cfg  Config // the settings; its component fields are in src
	page []byte

	mu sync.Mutex // protects everything below
	// src lists the components shown: the Config given to New, then those
	// given to Add. Add replaces the slice, never changes it, so a copy
	// taken under mu may be read without it.
	src       []Config
	timelines map[key]*timeline
	samples   uint64 // samples observed; see timeline.seen
	clients   map[*client]struct{}
	dropped   uint64
	started   bool
	closed    bool
	stop      chan struct{} // closed by Close: the sampler and every stream end
	done      chan struct{} // closed when the sampler has returned
}

// key names a timeline.
type key struct {
	kind string // "breaker" or "health"
	name string
}

// New returns a dashboard of the components cfg lists, or a
// [*resilience.ConfigError] naming the first field that breaks its rule
// (see [Config]). The sampler starts with [Dashboard.Start].
func New(cfg Config) (*Dashboard, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return &Dashboard{
		cfg: cfg, page: page, src: []Config{components(cfg)},
		timelines: map[key]*timeline{}, clients: map[*client]struct{}{},
		stop: make(chan struct{}), done: make(chan struct{}),
	}, nil
}

// Add shows the components c lists as well, for components built after
// the dashboard because they took its [Dashboard.Listener]:
//
//	d.Add(dashboard.Config{Health: checker})
//
// Only c's component fields (Registry to Parts) are read. Add is safe
// to call while the dashboard serves.
func (d *Dashboard) Add(c Config) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.src = append(slices.Clip(d.src), components(c))
}

// sources returns the components shown.
func (d *Dashboard) sources() []Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.src
}

// Start starts the sampler. Starting a started or closed dashboard does
// nothing.
func (d *Dashboard) Start() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.started || d.closed {
		return
	}
	d.started = true
	go d.run()
}

// Close stops the sampler and waits for it, and ends every event stream;
// the page and /snapshot go on being served. Closing twice does nothing.
func (d *Dashboard) Close() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	close(d.stop)
	started := d.started
	for c := range d.clients {
		d.drop(c, false)
	}
	d.mu.Unlock()
	if started {
		<-d.done
	}
}

// run samples every Interval until Close.
func (d *Dashboard) run() {
	defer close(d.done)
	t := d.cfg.Clock.Ticker(d.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			d.sample()
		}
	}
}

// sample reads every component, records and streams what changed, then
// streams the snapshot, timelines left out.
func (d *Dashboard) sample() {
	s := d.collect()
	d.observe(&s, false)
	if f, err := frame("sample", s); err == nil {
		d.broadcast(f)
	}
}

// Snapshot reads every component now and returns what the page would
// show, timelines included. Changes it finds are recorded and streamed, as
// a sample's are.
func (d *Dashboard) Snapshot() Snapshot {
	s := d.collect()
	d.observe(&s, true)
	return s
}

// Listener returns a listener of state changes to put in the
// Config.Listeners of the breakers and health checkers the dashboard
// shows: it records each of their transitions exactly and streams it at
// once, where sampling sees only the state at each sample. Events of
// components the dashboard does not show are ignored.
func (d *Dashboard) Listener() resilience.Listener {
	return resilience.OnKinds(d.onEvent, resilience.EventStateChange)
}

// onEvent records a state change reported by a breaker or a checker.
func (d *Dashboard) onEvent(e resilience.Event) {
	var k key
	var t Transition
	switch s := e.Detail.(type) {
	case breaker.Snapshot:
		k, t = key{"breaker", s.Name}, breakerTransition(s)
	case health.TargetSnapshot:
		k, t = key{"health", s.Name}, targetTransition(s)
	default:
		return
	}
	t.Reason = e.Reason
	if !d.shows(k) && !d.fromParts(k) {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.timelines[k]; !ok && t.Seq > 0 {
		// The first news of this component is a change: it was in From
		// before, since a time nobody told us.
		seed := Transition{State: e.From, Seq: t.Seq - 1}
		if k.kind == "health" && e.From == health.Unknown.String() {
			seed.Seq = 0 // as a sample of the unprobed target would say
		}
		d.record(k, seed)
	}
	d.record(k, t)
}

// shows reports whether k is a component the dashboard samples. It reads
// registries and checkers, so it runs without d.mu.
func (d *Dashboard) shows(k key) bool {
	for _, c := range d.sources() {
		switch k.kind {
		case "breaker":
			if c.Registry != nil {
				if _, ok := c.Registry.Get(k.name); ok {
					return true
				}
			}
			if slices.ContainsFunc(c.Breakers, func(b *breaker.Breaker) bool { return b != nil && b.Name() == k.name }) {
				return true
			}
		case "health":
			if c.Health != nil {
				if _, ok := c.Health.Lookup(k.name); ok {
					return true
				}
			}
		}
	}
	return false
}

// observe records the transitions s shows, forgets the timelines of
// components s no longer lists, and fills in s's timelines when asked
// to, and its client counts.
func (d *Dashboard) observe(s *Snapshot, timelines bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.observeLocked(s, timelines)
}

// observeLocked is observe with d.mu held.
func (d *Dashboard) observeLocked(s *Snapshot, timelines bool) {
	cutoff := s.Time.Add(-d.cfg.History)
	d.samples++
	for i := range s.Breakers {
		b := &s.Breakers[i]
		tl := d.timelineOf(key{"breaker", b.Snapshot.Name}, b.of)
		d.record(key{"breaker", b.Snapshot.Name}, breakerTransition(b.Snapshot))
		tl.prune(cutoff)
		if timelines {
			b.Timeline = tl.snapshot()
		}
	}
	for i := range s.Health {
		h := &s.Health[i]
		tl := d.timelineOf(key{"health", h.Snapshot.Name}, h.of)
		d.record(key{"health", h.Snapshot.Name}, targetTransition(h.Snapshot))
		tl.prune(cutoff)
		if timelines {
			h.Timeline = tl.snapshot()
		}
	}
	for k, tl := range d.timelines {
		// A listener may have begun a timeline for a component made
		// after s was collected: it goes only if the sample before
		// did not list it either.
		if d.samples-tl.seen > 1 {
			delete(d.timelines, k)
		}
	}
	s.Clients, s.DroppedClients = len(d.clients), d.dropped
}

// timelineOf returns k's timeline, a new one if k had none or had one of
// another component than of. d.mu must be held.
func (d *Dashboard) timelineOf(k key, of any) *timeline {
	tl := d.timelines[k]
	// A timeline begun by a listener has no component yet, and becomes
	// that of the first one sampled under its name.
	if tl == nil || (tl.of != nil && tl.of != of) {
		tl = &timeline{}
		d.timelines[k] = tl
	}
	tl.of = of
	return tl
}

// record adds t to k's timeline, making one if need be, and streams it if
// it is new. d.mu must be held.
func (d *Dashboard) record(k key, t Transition) {
	tl := d.timelines[k]
	if tl == nil {
		tl = &timeline{}
		d.timelines[k] = tl
	}
	tl.seen = d.samples
	if tl.insert(t) {
		if f, err := frame("change", change{Kind: k.kind, Name: k.name, Transition: t}); err == nil {
			d.broadcastLocked(f)
		}
	}
}

// change is the data of a "change" event.
type change struct {
	Kind       string     `json:"kind"`
	Name       string     `json:"name"`
	Transition Transition `json:"transition"`
}

// ServeHTTP serves the page, the event stream and the snapshot.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var serve func(http.ResponseWriter, *http.Request)
	switch r.URL.Path {
	case "/", "":
		serve = d.servePage
	case "/events":
		serve = d.serveEvents
	case "/snapshot":
		serve = d.serveSnapshot
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "dashboard: method not allowed", http.StatusMethodNotAllowed)
		return
	}
	serve(w, r)
}

func (d *Dashboard) serveSnapshot(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(d.Snapshot())
}
