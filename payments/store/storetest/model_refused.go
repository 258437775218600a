package storetest

import (
	"slices"

	"pgregory.net/rapid"
)

var banks = []string{"bank-a", "bank-b", "bank-c"}

// refusedBy records that a bank refused a payment: the claimant's write,
// listing the bank once, in order of first refusal.
func (m *model) refusedBy(t *rapid.T) {
	k, r, tok := m.token(t)
	bank := rapid.SampledFrom(banks).Draw(t, "bank")
	err := m.s.MarkRefused(ctx, k, tok, bank)
	if !m.write(t, r, tok, err) {
		return
	}
	if err != nil {
		t.Fatalf("refused %s by %s: %v", k, bank, err)
	}
	if !slices.Contains(r.refused, bank) {
		r.refused = append(r.refused, bank)
	}
}
