package httpx

import (
	"encoding/json"
	"net/http"

	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/health"
)

// HealthReport is the document [HealthHandler] serves.
type HealthReport struct {
	// Ready is true when every critical target is Healthy.
	Ready    bool                    `json:"ready"`
	Targets  []health.TargetSnapshot `json:"targets"`
	Breakers []breaker.Snapshot      `json:"breakers"`
}

// HealthHandler serves a JSON [HealthReport] of every target of c and of
// every breaker the program has: those in reg, in name order, then those in
// extra not already listed, in the order given. reg, c and entries of extra
// may be nil.
//
// It has readiness semantics: 200 OK when every critical target is
// Healthy, 503 Service Unavailable otherwise, so it can back a load
// balancer's readiness probe. It answers GET and HEAD only, and the report
// is never cached. It is safe for concurrent use.
func HealthHandler(c *health.Checker, reg *breaker.Registry, extra ...*breaker.Breaker) http.Handler {
	extra = append([]*breaker.Breaker(nil), extra...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !healthMethod(w, r) {
			return
		}
		rep := HealthReport{Ready: c.Ready(), Targets: c.Snapshot(), Breakers: breakerSnapshots(reg, extra)}
		if rep.Targets == nil {
			rep.Targets = []health.TargetSnapshot{}
		}
		code := http.StatusOK
		if !rep.Ready {
			code = http.StatusServiceUnavailable
		}
		serveHealthJSON(w, r, code, rep)
	})
}

// LivenessHandler answers 200 OK with {"live":true} to GET and HEAD: it
// tells an orchestrator the process still serves requests. It looks at no
// dependency on purpose: restarting a gateway because its bank is down
// drops the payments in flight and brings the bank back no sooner. Use
// [HealthHandler] for readiness.
func LivenessHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if healthMethod(w, r) {
			serveHealthJSON(w, r, http.StatusOK, struct {
				Live bool `json:"live"`
			}{true})
		}
	})
}

// breakerSnapshots lists reg's breakers, then the extras not in reg, each
// breaker once.
func breakerSnapshots(reg *breaker.Registry, extra []*breaker.Breaker) []breaker.Snapshot {
	out := []breaker.Snapshot{}
	seen := make(map[*breaker.Breaker]bool)
	if reg != nil {
		for _, b := range reg.All() {
			seen[b] = true
			out = append(out, b.Snapshot())
		}
	}
	for _, b := range extra {
		if b != nil && !seen[b] {
			seen[b] = true
			out = append(out, b.Snapshot())
		}
	}
	return out
}

// healthMethod refuses methods other than GET and HEAD with 405.
func healthMethod(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "httpx: method not allowed", http.StatusMethodNotAllowed)
	return false
}

func serveHealthJSON(w http.ResponseWriter, r *http.Request, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if r.Method == http.MethodHead {
		return
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the status line is sent; nothing useful to do on a write error
}
