package resilience

// Queued reports how many state changes wait in d's queue and the length
// of its ring, so tests can prove the queue stays bounded.
func Queued(d *Dispatcher) (n, capacity int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n, len(d.ring)
}
