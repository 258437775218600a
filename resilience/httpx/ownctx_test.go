package httpx

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An exchange with its extras is one allocation of at most 512 bytes: a
// size class of its own, which BenchmarkTransportOverhead showed worth
// about 8% of a request with every policy on against the 704 bytes it
// was. A field added to ownCtx, extras or exchange must find room.
func TestExchangeSize(t *testing.T) {
	assert.LessOrEqual(t, unsafe.Sizeof(exchangeWithExtras{}), uintptr(512))
}

// ended reports whether c's Done is closed, without waiting.
func ended(c context.Context) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}

// A context of ours ends its kids, the first kept inline and the others
// aside, except those released before; and a kid released is forgotten
// wherever it was kept.
func TestOwnCtxEndsEveryKid(t *testing.T) {
	parent := new(ownCtx)
	parent.link(context.Background())
	kids := make([]*ownCtx, 4)
	for i := range kids {
		kids[i] = new(ownCtx)
		kids[i].link(parent)
	}
	kids[0].release() // the inline one
	kids[2].release() // one kept aside
	for _, i := range []int{0, 2} {
		require.ErrorIs(t, kids[i].Err(), context.Canceled, "kid %d released", i)
	}
	assert.Nil(t, parent.kid, "the released inline kid is forgotten")
	assert.Equal(t, []*ownCtx{kids[1], kids[3]}, parent.more.kids, "the kids kept aside, but the released one")

	parent.expire()

	for _, i := range []int{1, 3} {
		assert.ErrorIs(t, kids[i].Err(), context.DeadlineExceeded, "kid %d ends with its parent", i)
		assert.True(t, ended(kids[i]), "kid %d's Done", i)
	}
	late := new(ownCtx)
	late.link(parent)
	assert.ErrorIs(t, late.Err(), context.DeadlineExceeded, "a kid adopted after the end starts ended")
}

// The first two functions registered take no room of their own; the
// others can be stopped; those not stopped run once, at the end; a
// function registered after the end runs at once, on its own goroutine.
func TestOwnCtxAfterFuncs(t *testing.T) {
	c := new(ownCtx)
	c.link(context.Background())
	var mu sync.Mutex
	var ran []int
	register := func(i int) func() bool {
		return c.AfterFunc(func() {
			mu.Lock()
			ran = append(ran, i)
			mu.Unlock()
		})
	}
	stops := make([]func() bool, 5)
	for i := range stops {
		stops[i] = register(i)
	}
	assert.False(t, stops[0](), "an inline registration cannot be stopped")
	assert.True(t, stops[3](), "a registration kept aside is stopped")
	assert.False(t, stops[3](), "and only once")

	c.release()

	assert.Equal(t, []int{0, 1, 2, 4}, ran, "each function not stopped runs once, in order")
	assert.False(t, stops[2](), "stopped too late")
	done := make(chan struct{})
	c.AfterFunc(func() { close(done) })
	<-done
}

type oddErrCtx struct{ context.Context }

var errOdd = errors.New("an odd context's own error")

func (oddErrCtx) Err() error { return errOdd }

// A context of ours ending with an error that is not one of package
// context's keeps it, and hands it to its kids.
func TestOwnCtxKeepsAnUnusualError(t *testing.T) {
	c := new(ownCtx)
	c.link(oddErrCtx{context.Background()}) // never done: no link, so end it as its link would
	kid := new(ownCtx)
	kid.link(c)

	c.end(errOdd)

	assert.ErrorIs(t, c.Err(), errOdd)
	assert.ErrorIs(t, kid.Err(), errOdd)
	c.end(context.Canceled)
	assert.ErrorIs(t, c.Err(), errOdd, "the first end stands")
}

// Done made before the end is closed by it; asked after, it is closed
// already; both may race with the end (run under -race).
func TestOwnCtxDone(t *testing.T) {
	early := new(ownCtx)
	early.link(context.Background())
	d := early.Done()
	require.False(t, ended(early))
	early.release()
	<-d
	assert.True(t, ended(early))

	for range 50 {
		c := new(ownCtx)
		c.deadline, _ = time.Now(), c.bounded.Swap(true)
		c.link(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { <-c.Done() })
		wg.Go(func() { _ = c.Err() })
		wg.Go(c.expire)
		wg.Wait()
		assert.ErrorIs(t, c.Err(), context.DeadlineExceeded)
	}
}

// A first attempt that starts after the shared timer has fired for its
// expected deadline (and re-armed for Timeout) brings the timer forward
// to its own deadline. The transport's policies never hold a first
// attempt back that long; the timer does not rely on it.
func TestSharedTimerTakesALateFirstAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &Transport{timeout: 10 * time.Second, attemptTimeout: time.Second}
		own, first := new(ownCtx), new(ownCtx)
		start := time.Now()
		own.deadline = start.Add(tr.timeout)
		own.bounded.Store(true)
		own.link(context.Background())
		tr.armTimeout(own, first, start)

		time.Sleep(1500 * time.Millisecond) // the timer fires for the first attempt that has not started
		synctest.Wait()
		require.NoError(t, own.Err())
		first.link(own)
		first.deadline = time.Now().Add(tr.attemptTimeout)
		first.bounded.Store(true)
		fd, ok := first.timer.(*firstDeadline)
		require.True(t, ok, "the first attempt's context holds the shared timer")
		require.True(t, fd.register(first, own))

		<-first.Done()
		assert.Equal(t, 2500*time.Millisecond, time.Since(start), "the attempt's own deadline")
		assert.ErrorIs(t, first.Err(), context.DeadlineExceeded)
		assert.False(t, fd.unregister(first), "its deadline passed")
		require.NoError(t, own.Err())
		<-own.Done()
		assert.Equal(t, 10*time.Second, time.Since(start), "then Timeout's")
	})
}
