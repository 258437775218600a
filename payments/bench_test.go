package payments_test

import (
	"testing"

	"github.com/riprap-go/riprap/payments"
)

var (
	sinkMoney payments.Money
	sinkErr   error
	sinkStr   string
	sinkBool  bool
)

func BenchmarkParseMoney(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkMoney, sinkErr = payments.ParseMoney("12345.67 USD")
	}
}

func BenchmarkParseMoneyParallel(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m, err := payments.ParseMoney("12345.67 USD")
			if err != nil || m.Minor() != 1234567 {
				b.Error("bad parse")
			}
		}
	})
}

func BenchmarkMoneyString(b *testing.B) {
	m := payments.MustParseMoney("-12345.67 USD")
	b.ReportAllocs()
	for b.Loop() {
		sinkStr = m.String()
	}
}

func BenchmarkAdd(b *testing.B) {
	x, y := payments.MustParseMoney("12.34 USD"), payments.MustParseMoney("0.01 USD")
	b.ReportAllocs()
	for b.Loop() {
		sinkMoney, sinkErr = x.Add(y)
	}
}

func BenchmarkConvert(b *testing.B) {
	m, r := payments.MustParseMoney("12345.67 USD"), payments.MustParseRate("0.9215")
	b.ReportAllocs()
	for b.Loop() {
		sinkMoney, sinkErr = m.Convert(r, payments.EUR, payments.HalfEven)
	}
}

func BenchmarkConvertParallel(b *testing.B) {
	m, r := payments.MustParseMoney("12345.67 USD"), payments.MustParseRate("0.9215")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Convert(r, payments.EUR, payments.HalfEven); err != nil {
				b.Error(err)
			}
		}
	})
}

func BenchmarkValidate(b *testing.B) {
	r := validRequest()
	r.Description = "Invoice 2026-0042 for consulting, ref 1234 5678"
	b.ReportAllocs()
	for b.Loop() {
		sinkErr = r.Validate()
	}
}

func BenchmarkContainsCardNumber(b *testing.B) {
	s := "Order 2026-0042: paid with card ending 1111, call +41 44 123 45 67 for help"
	b.ReportAllocs()
	for b.Loop() {
		sinkBool = payments.ContainsCardNumber(s)
	}
}
