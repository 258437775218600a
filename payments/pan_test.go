package payments_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/riprap-go/riprap/payments"
)

func TestContainsCardNumber(t *testing.T) {
	cases := []struct {
		name string
		s    string
		want bool
	}{
		{"plain", "4111111111111111", true},
		{"spaces", "card 4111 1111 1111 1111 thanks", true},
		{"dashes", "4111-1111-1111-1111", true},
		{"dots", "4111.1111.1111.1111", true},
		{"slashes", "4111/1111/1111/1111", true},
		{"underscores", "4111_1111_1111_1111", true},
		{"commas", "4111,1111,1111,1111", true},
		{"several spaces", "4111   1111    1111 1111", true},
		{"no-break spaces", "4111\u00a01111\u00a01111\u00a01111", true},
		{"thin and ideographic spaces", "4111\u20091111\u30001111\u202f1111", true},
		{"en dash", "4111–1111–1111–1111", true},
		{"zero-width space", "4111\u200b1111\u200b1111\u200b1111", true},
		{"full-width digits", "４１１１４１１１１１１１１１１１", false}, // not Luhn-valid: the control
		{"full-width card", "４１１１ １１１１ １１１１ １１１１", true},
		{"full-width separators", "４１１１－１１１１．１１１１／１１１１", true},
		{"arabic-indic", "٤١١١١١١١١١١١١١١١", true},
		{"mixed scripts", "4１1١ 1111 1111 1111", true},
		{"superscripts", "⁴¹¹¹¹¹¹¹¹¹¹¹¹¹¹¹", true},
		{"in an account ID", "acct_4111111111111111", true},
		{"amex", "3782 822463 10005", true},
		{"followed by more digits", "4111111111111111 2024", true},
		{"letters between groups", "4111 a 1111 b 1111 c 1111", false},
		{"long unbroken reference", "41111111111111110000", false},
		{"twelve digits", "4111 1111 1111", false},
		{"luhn-invalid", "4111 1111 1111 1112", false},
		{"no digits", "thanks for lunch", false},
		{"invalid UTF-8 between groups", "4111\xff1111\xfe1111\x801111", true},
		{"mastercard", "5500-0000-0000-0004", true},
		{"card then a year", "4111111111111111 2029", true},
		{"twenty-three unbroken digits", "41111111111111111111111", false},
		{"a date and an amount", "invoice 2024-05-17 amount 12", false},
		{"empty", "", false},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, payments.ContainsCardNumber(c.s), "%s: %q", c.name, c.s)
	}
}

func TestAccountIDRefusesAnEmbeddedCardNumber(t *testing.T) {
	for _, id := range []payments.AccountID{"acct_4111111111111111", "acct_x4111111111111111", "acct_378282246310005ab"} {
		assert.False(t, id.Valid(), id)
		r := validRequest()
		r.Payee = id
		assert.ErrorContains(t, r.Validate(), "payee: looks like it contains a card number", id)
	}
	assert.True(t, payments.AccountID("acct_0123456789abcdef").Valid(), "ten digits are no card number")
}
