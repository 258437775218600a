// Package backoff provides delay strategies and the retry policy.
package backoff
