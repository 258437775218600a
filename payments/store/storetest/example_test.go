package storetest_test

import (
	"testing"

	"github.com/riprap-go/riprap/payments/store"
	"github.com/riprap-go/riprap/payments/store/storetest"
)

// An implementation of store.Store runs the suite from one test of its
// own; here the in-memory store. (The suite needs a *testing.T, so this
// example is compiled, not run: TestMemoryConforms in payments/store runs
// it.)
func ExampleRun() {
	_ = func(t *testing.T) { // func TestMyStoreConforms(t *testing.T)
		storetest.Run(t, func(t *testing.T, cfg store.Config) store.Store {
			s, err := store.NewMemory(cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		})
	}
}
