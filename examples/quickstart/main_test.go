package main

import (
	"bytes"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The whole story, with time faked by synctest so that the waits, the
// timeouts and the limiter's refill are exact. The order of the policies
// shows in it: the breaker sits inside the retry and judges each attempt,
// so 2 failed attempts open it and the third is refused at once (its 980ms
// Retry-After is more than the retry waits for); each attempt has its own
// timeout; and the limiter, outermost, counts requests, not attempts.
func TestRunTellsTheWholeStory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		require.NoError(t, run(&out))
		assert.Equal(t, `The service is up.
  quote:                       ok, USD/EUR = 0.9215 (calls reaching the service: 1)
The service goes down: 2 failed attempts open the breaker, so the retry's third attempt is refused at once.
  quote:                       rejected at attempt 3, breaker open (retry after 980ms) (calls reaching the service: 2)
  quote while open:            rejected at attempt 1, breaker open (retry after 980ms) (calls reaching the service: 0)
The service recovers; after the breaker's 1s wait, one probe closes it.
  probe:                       ok, USD/EUR = 0.9215 (calls reaching the service: 1)
  quote:                       ok, USD/EUR = 0.9215 (calls reaching the service: 1)
The service turns slow: 2 attempts hit the 100ms timeout and open the breaker again.
  quote:                       rejected at attempt 3, breaker open (retry after 980ms) (calls reaching the service: 2)
The service is fast again; after the breaker's wait, a burst of 6 requests meets the rate limit (burst 5, 10/s).
  burst 1:                     ok, USD/EUR = 0.9215 (calls reaching the service: 1)
  burst 2:                     ok, USD/EUR = 0.9215 (calls reaching the service: 1)
  burst 3:                     ok, USD/EUR = 0.9215 (calls reaching the service: 1)
  burst 4:                     ok, USD/EUR = 0.9215 (calls reaching the service: 1)
  burst 5:                     ok, USD/EUR = 0.9215 (calls reaching the service: 1)
  burst 6:                     rejected, rate limited (retry after 100ms) (calls reaching the service: 0)
`, out.String())
	})
}
