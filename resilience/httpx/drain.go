package httpx

import "io"

// MaxDrain is how much of an unwanted response body [DrainBody] reads,
// and the transport reads of each response it drops, before closing it.
// Reading the rest lets net/http put the connection back in its pool; past
// this bound, a new connection costs less than reading bytes nobody wants.
const MaxDrain = 64 << 10

// DrainBody reads what is left of a response body, up to [MaxDrain]
// bytes, and closes it, so that its connection can serve the next
// request. Closing an unread body is enough to free the resources, but
// net/http then drops the connection; a client that stops reading early
// (a body over its size limit, an error status it does not read) should
// drain instead. Errors are ignored: the body is unwanted.
func DrainBody(body io.ReadCloser) {
	if body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, body, MaxDrain)
	_ = body.Close()
}
