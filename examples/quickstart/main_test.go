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
// shows in it: two requests of three attempts each open a breaker that
// needs two failures (the breaker is outside the retry), and each attempt
// has its own timeout (the timeout is inside it).
func TestRunTellsTheWholeStory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		require.NoError(t, run(&out))
		assert.Equal(t, `The service is up.
  quote:                       ok, USD/EUR = 0.9215 (calls reaching the service: 1)
The service goes down: each request is tried 3 times, and 2 failed requests open the breaker.
  quote:                       failed after 3 attempts: fx: 503 service unavailable (calls reaching the service: 3)
  quote:                       failed after 3 attempts: fx: 503 service unavailable (calls reaching the service: 3)
  quote while open:            rejected, breaker open (retry after 1s) (calls reaching the service: 0)
The service recovers; after the breaker's 1s wait, one probe closes it.
  probe:                       ok, USD/EUR = 0.9215 (calls reaching the service: 1)
  quote:                       ok, USD/EUR = 0.9215 (calls reaching the service: 1)
The service turns slow: every attempt hits the 100ms timeout.
  quote:                       failed: timed out 3 times (calls reaching the service: 3)
The service is fast again; a burst of 6 requests meets the rate limit (burst 5, 10/s).
  burst 1:                     ok, USD/EUR = 0.9215 (calls reaching the service: 1)
  burst 2:                     ok, USD/EUR = 0.9215 (calls reaching the service: 1)
  burst 3:                     ok, USD/EUR = 0.9215 (calls reaching the service: 1)
  burst 4:                     ok, USD/EUR = 0.9215 (calls reaching the service: 1)
  burst 5:                     ok, USD/EUR = 0.9215 (calls reaching the service: 1)
  burst 6:                     rejected, rate limited (retry after 100ms) (calls reaching the service: 0)
`, out.String())
	})
}
