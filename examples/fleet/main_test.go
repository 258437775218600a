package main

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFlags(t *testing.T) {
	full := []string{"-instance", "gw-1", "-bank", "http://b", "-fx", "http://f", "-log", "http://l",
		"-postgres", "postgres://x", "-redis", "127.0.0.1:6379"}
	cfg, err := parseFlags(append(full, "-rate", "7", "-claim-ttl", "4s"), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, nodeConfig{Instance: "gw-1", Listen: "127.0.0.1:0", Bank: "http://b", FX: "http://f", Log: "http://l",
		Postgres: "postgres://x", Redis: "127.0.0.1:6379", Prefix: "riprap:fleet:", Rate: 7, Burst: 10, Fleet: 3,
		ClaimTTL: 4 * time.Second}, cfg)

	cases := map[string][]string{
		"a rate of zero":     append(full, "-rate", "0"),
		"a negative burst":   append(full, "-burst", "-1"),
		"an empty fleet":     append(full, "-fleet", "0"),
		"a negative claim":   append(full, "-claim-ttl", "-1s"),
		"a stray argument":   append(full, "extra"),
		"an unknown flag":    append(full, "-nope"),
		"a malformed number": append(full, "-rate", "many"),
		"no instance at all": full[2:],
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := parseFlags(args, io.Discard)
			assert.Error(t, err)
		})
	}
}
