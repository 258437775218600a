//go:build race

package sqlitestore_test

// raceEnabled: SQLite, compiled from C to Go, runs many times slower under
// the race detector.
const raceEnabled = true
