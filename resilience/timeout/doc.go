// Package timeout bounds how long one call may take.
//
// The default [Cooperative] mode gives the call a context with a deadline
// and waits for the function to return; it leaves no goroutine behind, and a
// function that honours its context returns soon after the deadline. The
// opt-in [Abandon] mode is for functions that ignore their context: the
// caller gets its answer on time while the function runs on in its own
// goroutine until it returns by itself.
package timeout
