package main

import (
	"bytes"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunRetriesPastTheTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		require.NoError(t, run(&out, nil))
		s := out.String()
		// The fixed seed makes the second quote hit a slow reply first.
		assert.Contains(t, s, `quote 1: "rate #1", err=<nil>`)
		assert.Contains(t, s, `msg=timeout policy=timeout name=fx timeout=50ms`)
		assert.Contains(t, s, `msg="attempt failed" attempt=1`)
		assert.Contains(t, s, `quote 2: "rate #3", err=<nil>`)
		assert.True(t, strings.HasSuffix(s, "4 calls reached the flaky function\n"), s)
	})
}

func TestRunRefusesArguments(t *testing.T) {
	assert.EqualError(t, run(&bytes.Buffer{}, []string{"-x"}), `no arguments expected, got ["-x"]`)
}
