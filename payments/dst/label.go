package dst

import (
	"context"
	"hash/fnv"
	"math/rand/v2"
)

// labelKey carries the label of whoever caused a call: a client's request
// ("r00000042"), the drain, the driver. Tickets carry it, so that the same
// call made on behalf of two callers at one instant gets two names.
type labelKey struct{}

func withLabel(ctx context.Context, label string) context.Context {
	return context.WithValue(ctx, labelKey{}, label)
}

// labelOf returns the label ctx carries, "" for the gateway's own loops.
func labelOf(ctx context.Context) string {
	s, _ := ctx.Value(labelKey{}).(string)
	return s
}

// The random streams of a world, each drawn from the world's seed, so
// that adding draws to one never shifts another.
const (
	streamBankFaults uint64 = iota + 1
	streamFXFaults
	streamLogFaults
	streamLog
	streamPayments
	streamGateway // + the incarnation's number << 8: gateway.Config.Rand
	_             // was the reconciler's waits, drawn now from streamGateway
	streamBank2Faults
)

func newPCG(seed, stream uint64) *rand.PCG {
	return rand.NewPCG(seed, stream*0x9e3779b97f4a7c15+1)
}

// hash64 is a deterministic hash of the parts, for draws keyed by what
// they are about rather than by when they happen.
func hash64(seed uint64, parts ...string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(seed >> (8 * i))
	}
	_, _ = h.Write(b[:])
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	return h.Sum64()
}
