package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRun runs the example end to end over loopback and checks that each
// act of the story happened; it asserts no timing.
func TestRun(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(&out))
	got := out.String()
	for _, want := range []string{
		`refused by breaker "bank.transfers"`,
		"health of grpc.testing.TestService: NOT_SERVING",
		"health of grpc.testing.TestService: SERVING",
		"OK: 30 of 30;",
	} {
		assert.Contains(t, got, want)
	}
}
