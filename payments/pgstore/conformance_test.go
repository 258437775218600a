package pgstore_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/payments/pgstore"
	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/payments/store/storetest"
)

func TestPostgresConforms(t *testing.T) {
	var p schemaPool
	storetest.Run(t, func(t *testing.T, cfg store.Config) store.Store {
		schema := p.take(t)
		s := open(t, pgstore.Config{Store: cfg, Schema: schema})
		return &pooled{Store: s, release: func() { p.put(t, schema) }}
	})
}

// schemaPool hands out empty schemas for the conformance suite, emptying
// (TRUNCATE) the schemas of a test's closed stores instead of creating new
// ones: the model test opens a store for each of its hundred runs, and
// creating a schema costs a hundred times what emptying one does.
type schemaPool struct {
	mu   sync.Mutex // protects free
	free map[*testing.T][]string
}

func (p *schemaPool) take(t *testing.T) string {
	p.mu.Lock()
	free := p.free[t]
	if len(free) == 0 {
		p.mu.Unlock()
		return newSchema(t)
	}
	schema := free[len(free)-1]
	p.free[t] = free[:len(free)-1]
	p.mu.Unlock()
	checkCapacity(t, schema)
	_, err := adminDB(t).ExecContext(ctx, "TRUNCATE "+schema+".outbox, "+schema+".payments RESTART IDENTITY; UPDATE "+
		schema+".outbox_capacity SET used = 0")
	require.NoError(t, err)
	return schema
}

// put makes schema free for t's next store. A schema is never reused by
// another test: the test that created it drops it.
func (p *schemaPool) put(t *testing.T, schema string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.free == nil {
		p.free = map[*testing.T][]string{}
	}
	p.free[t] = append(p.free[t], schema)
}

// pooled gives its schema back to the pool when closed.
type pooled struct {
	*pgstore.Store
	once    sync.Once
	release func()
}

func (p *pooled) Close() error {
	err := p.Store.Close()
	p.once.Do(p.release)
	return err
}
