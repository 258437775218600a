package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/riprap-go/riprap/resilience"
)

// A process told too little refuses to start, and names every field it
// misses.
func Example_parseFlags() {
	_, err := parseFlags([]string{"-instance", "gw-1", "-bank", "http://127.0.0.1:8081"}, io.Discard)
	var ce *resilience.ConfigError
	fmt.Println(errors.As(err, &ce))
	fmt.Println(err)
	// Output:
	// true
	// fleet: FX is required, got ""
	// fleet: Log is required, got ""
	// fleet: Postgres is required (or MemoryStore), got ""
	// fleet: Redis is required (or Unshared and LocalLimit), got ""
}
