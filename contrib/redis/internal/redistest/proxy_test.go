package redistest_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/contrib/redis/internal/redistest"
)

// The proxy counts the commands clients send, not those a script runs
// inside the server, which INFO commandstats counts as well.
func TestProxyCountsClientCommands(t *testing.T) {
	srv := redistest.Start(t)
	proxy := srv.Proxy(t)
	c := proxy.Client(t)
	ctx := context.Background()
	pipeline := func(p redis.Pipeliner) error {
		p.Get(ctx, "k")
		p.Get(ctx, "k")
		p.Get(ctx, "k")
		return nil
	}
	// Connections' handshakes (HELLO) go through first: go-redis runs a
	// pipeline on a connection of its own.
	require.NoError(t, c.Ping(ctx).Err())
	_, _ = c.Pipelined(ctx, pipeline)
	proxy.Reset()

	require.NoError(t, c.Set(ctx, "k", "v", 0).Err())
	require.NoError(t, c.Eval(ctx, "redis.call('GET', KEYS[1]); redis.call('GET', KEYS[1]); return 1", []string{"k"}).Err())
	_, err := c.Pipelined(ctx, pipeline)
	require.NoError(t, err)
	assert.Equal(t, int64(5), proxy.Commands(), "SET, EVAL and three pipelined GETs")

	stats, err := srv.CommandCalls(ctx, srv.Client(t))
	require.NoError(t, err)
	assert.Equal(t, int64(8), stats["get"], "the server also counts the script's two GETs")
}
