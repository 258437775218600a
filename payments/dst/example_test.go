package dst_test

import (
	"fmt"
	"time"

	"github.com/riprap-go/riprap/payments"
	"github.com/riprap-go/riprap/payments/dst"
	"github.com/riprap-go/riprap/payments/sim"
)

// A world is plain data: it prints as JSON, reads back, and projects onto
// a scenario file of the drill (examples/gateway), which plays what it
// can of it on real sockets.
func ExampleWorld_Scenario() {
	w := dst.World{Seed: 7, Duration: dst.Duration(20 * time.Second),
		Load: dst.Load{Shape: dst.Steady, Rate: 50},
		Bank: dst.Faults{Latency: dst.Duration(2 * time.Millisecond), Windows: []dst.Window{
			{Kind: dst.Hang, Start: dst.Duration(5 * time.Second), End: dst.Duration(8 * time.Second)}}},
		Crashes: []dst.Crash{{At: dst.Duration(12 * time.Second), Downtime: dst.Duration(time.Second)}}}
	back, err := dst.ReadWorld([]byte(w.JSON()))
	fmt.Println("reads back:", err == nil && back.Bank.Windows[0] == w.Bank.Windows[0])
	fmt.Println(string(w.Scenario("bank-hang")))
	// Output:
	// reads back: true
	// {
	//   "name": "bank-hang",
	//   "description": "dst world, seed 7, steady load; not in this file: configuration, retries; 1 crashes",
	//   "duration": "20s",
	//   "rate": 50,
	//   "faults": [
	//     {
	//       "service": "bank",
	//       "kind": "hang",
	//       "start": "5s",
	//       "end": "8s"
	//     }
	//   ],
	//   "noise": {
	//     "bank": {
	//       "error_bp": 0,
	//       "lost_reply_bp": 0,
	//       "latency": "2ms",
	//       "jitter": "0s"
	//     },
	//     "fx": {
	//       "error_bp": 0,
	//       "lost_reply_bp": 0,
	//       "latency": "0s",
	//       "jitter": "0s"
	//     },
	//     "log": {
	//       "error_bp": 0,
	//       "lost_reply_bp": 0,
	//       "latency": "0s",
	//       "jitter": "0s"
	//     }
	//   }
	// }
}

// Check judges an outcome by the bank's, the log's and the store's own
// records. Here the bank debited one payment under two keys, and the
// gateway knows neither debit.
func ExampleCheck() {
	usd := payments.New(1000, payments.USD)
	o := &dst.Outcome{World: dst.World{Duration: dst.Duration(time.Second)},
		Payments: []dst.Payment{{Key: "pay-1"}},
		Transfers: []payments.TransferStatus{
			{IdempotencyKey: "pay-1", PaymentID: "pay-1", State: payments.TransferCompleted, TransferID: "tr_1", Amount: usd},
			{IdempotencyKey: "pay-1-again", PaymentID: "pay-1", State: payments.TransferCompleted, TransferID: "tr_2", Amount: usd}},
		DoubleCharges: []sim.DoubleCharge{{PaymentID: "pay-1", Keys: []string{"pay-1", "pay-1-again"},
			TransferIDs: []string{"tr_1", "tr_2"}}}}
	for _, v := range dst.Check(o) {
		fmt.Println(v)
	}
	// Output:
	// no double debit: 2: a debit at bank under key pay-1-again, which no client sent (payment pay-1, tr_2); payment pay-1 debited under keys [pay-1 pay-1-again] ([tr_1 tr_2])
	// no lost payment: 2: pay-1 debited (tr_1) but unknown to the gateway; pay-1-again debited (tr_2) but unknown to the gateway
}
