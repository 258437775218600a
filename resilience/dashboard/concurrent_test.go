package dashboard_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience/breaker"
	"github.com/riprap-go/riprap/resilience/dashboard"
)

// TestConcurrentUse flips breakers from several goroutines while the
// sampler runs, streams are read and /snapshot is served. Afterwards each
// timeline is in Seq order without repeats, within its bound, and ends in
// the breaker's state; every stream saw the final state too.
func TestConcurrentUse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := &breaker.Registry{}
		d, err := dashboard.New(dashboard.Config{Registry: reg, Interval: 50 * time.Millisecond})
		require.NoError(t, err)
		var bs []*breaker.Breaker
		for i := range 3 {
			bs = append(bs, newBreaker(t, reg, fmt.Sprintf("b%d", i), breaker.Config{}, d.Listener()))
		}
		d.Start()
		defer d.Close()
		streams := make([]*streamWriter, 2)
		var done []chan struct{}
		for i := range streams {
			streams[i] = newStreamWriter()
			done = append(done, serveStream(t.Context(), d, streams[i], "?max=10s"))
		}

		var wg sync.WaitGroup
		for g := range 6 {
			wg.Go(func() {
				b := bs[g%len(bs)]
				for i := range 60 {
					switch i % 3 {
					case 0:
						b.ForceOpen()
					case 1:
						b.Reset()
					default:
						rec := httptest.NewRecorder()
						d.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/snapshot", nil))
						assert.Equal(t, http.StatusOK, rec.Code)
					}
					time.Sleep(7 * time.Millisecond)
				}
			})
		}
		wg.Wait()
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()

		s := d.Snapshot()
		require.Len(t, s.Breakers, len(bs))
		for _, b := range s.Breakers {
			tl := b.Timeline
			require.NotEmpty(t, tl)
			assert.LessOrEqual(t, len(tl), dashboard.MaxTransitions)
			for i := 1; i < len(tl); i++ {
				assert.Less(t, tl[i-1].Seq, tl[i].Seq, "%s: in Seq order, no repeats", b.Snapshot.Name)
			}
			last := tl[len(tl)-1]
			assert.Equal(t, b.Snapshot.State.String(), last.State, b.Snapshot.Name)
			assert.Equal(t, b.Snapshot.Generation, last.Seq, b.Snapshot.Name)
		}
		for i, w := range streams {
			samples := named(w.events(t), "sample")
			require.NotEmpty(t, samples, "stream %d", i)
			final := decode(t, samples[len(samples)-1].Data)
			for j, b := range final.Breakers {
				assert.Equal(t, s.Breakers[j].Snapshot.State.String(), b.Snapshot.State, "stream %d", i)
			}
		}
		assert.Equal(t, uint64(0), s.DroppedClients, "streams that keep reading are never dropped")
		for _, c := range done {
			<-c
		}
	})
}
