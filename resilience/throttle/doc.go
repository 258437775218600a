// Package throttle sheds load on the client side, the way Google's SRE book
// describes: each call is refused locally with probability
//
//	max(0, (requests − K·accepts) / (requests + 1))
//
// where requests and accepts are counted over a sliding time window. While
// the dependency accepts everything, nothing is refused; as its share of
// accepted calls falls below 1/K, the client refuses a growing share of its
// own calls before sending them, so the dependency sees roughly K times the
// traffic it can serve and no more.
//
// # Throttle or breaker
//
// A [breaker] flips: closed, it sends everything; open, it sends nothing
// but the odd probe. That suits a dependency that is either up or down, and
// an open breaker gives the dependency complete rest. A [Throttle] turns a
// dial instead: it keeps sending a share of calls proportional to how many
// succeed, so a dependency that serves half its load keeps serving half,
// and recovery is seen at once by the calls still going through rather
// than by a probe after an open wait. Choose a throttle for a dependency
// that degrades (overload, a partial outage, a shard down) and a breaker
// for one that fails outright; the two compose, throttle outside.
//
// Rejections are [resilience.Rejection] errors matching [ErrThrottled].
// Outcomes are judged by [resilience.DefaultOutcome] unless
// [Config.Classifier] says otherwise; ignored calls (the caller's
// cancellation, a rejection by an inner policy) count neither as requests
// nor as accepts.
//
// [breaker]: https://pkg.go.dev/github.com/riprap-go/riprap/resilience/breaker
package throttle
