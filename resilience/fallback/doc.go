// Package fallback answers for a call that failed or was refused, with a
// static value, a function of the error, the last good value within a
// maximum age, or a chain of those tried in order (primary → secondary →
// cached).
//
// A fallback result comes back with a nil error, so a caller that must know
// whether it got the real thing passes a [Report] in its context
// ([WithReport]) and reads it after the call. The fallback never answers
// for the caller's own cancellation.
package fallback
