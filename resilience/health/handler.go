package health

import (
	"encoding/json"
	"net/http"

	"github.com/riprap-go/riprap/resilience/breaker"
)

// Report is the document [Handler] serves.
type Report struct {
	// Ready is true when every critical target is Healthy.
	Ready    bool               `json:"ready"`
	Targets  []TargetSnapshot   `json:"targets"`
	Breakers []breaker.Snapshot `json:"breakers"`
}

// Handler serves a JSON [Report] of every target of c and every breaker of
// reg (which may be nil), with readiness semantics: 200 OK when every
// critical target is Healthy, 503 Service Unavailable otherwise, so it can
// back a load balancer's readiness probe. It answers GET and HEAD only.
func Handler(c *Checker, reg *breaker.Registry) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "health: method not allowed", http.StatusMethodNotAllowed)
			return
		}
		rep := Report{Ready: c.Ready(), Targets: c.Snapshot(), Breakers: []breaker.Snapshot{}}
		if reg != nil {
			rep.Breakers = reg.Snapshots()
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if !rep.Ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		if r.Method == http.MethodHead {
			return
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep) // the status line is sent; nothing useful to do on a write error
	})
}
