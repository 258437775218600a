// Package fallback answers for a call that failed or was refused: with a
// static value ([Value]), a function of the error ([Func]), the last good
// value within a maximum age ([LastGood.Policy]), or a [Chain] of those
// tried in order (primary → secondary → cached).
//
// A [Policy] is a [github.com/riprap-go/riprap/resilience.Guard] for
// pipelines of its result type, usually the outermost one, so that it
// answers for every refusal and failure of the guards inside it. Its answer
// comes back with a nil error; a caller that must know whether it got the
// real thing reads a [Report] ([WithReport]). The fallback never answers
// for the caller's own cancellation.
package fallback
