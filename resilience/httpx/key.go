package httpx

import (
	"fmt"
	"hash/fnv"
	"net"
	"net/http"
	"net/netip"
	"net/textproto"
	"strings"
)

// Key functions derive the key a policy groups requests by: the client of
// a server middleware such as [RateLimit], the host of a [Transport]. They
// all have the type func(*http.Request) string.

// maxKeyLen bounds the keys taken from request headers: a limiter keeps a
// copy of each key it tracks, and a client chooses its headers.
const maxKeyLen = 64

// HostKey keys a request by the host it is sent to, the default of
// [TransportConfig].Key: its URL's host (or Request.Host when the URL has
// none) in lower case, without the scheme's default port, so that
// "https://API.example.com:443/" and "https://api.example.com/" share
// their policies.
func HostKey(r *http.Request) string {
	host := r.URL.Host
	if host == "" {
		host = r.Host
	}
	switch {
	case r.URL.Scheme == "https" && strings.HasSuffix(host, ":443"):
		host = host[:len(host)-len(":443")]
	case r.URL.Scheme == "http" && strings.HasSuffix(host, ":80"):
		host = host[:len(host)-len(":80")]
	}
	for i := 0; i < len(host); i++ {
		if c := host[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(host) // only then: lower-case hosts cost no allocation
		}
	}
	return host
}

// ClientIPBehind returns a key function for a server behind proxies: it
// keys a request by the address of the client that the proxies in trusted
// saw, read from X-Forwarded-For. Only what trusted proxies wrote is
// believed: the header is read from the right (each proxy appends the
// address it received the request from) past every address in trusted,
// and the first address outside them is the client's. A request whose
// connection does not come from a trusted proxy is keyed by that
// connection's address, whatever its headers say, so a client cannot pick
// its own key. When every address is trusted, the leftmost is the client.
//
// Addresses are keyed as by [ClientIP]: IPv6 clients by their /64. An
// entry that is not an address (such as "unknown") where a client's should
// be yields "invalid", so such requests share one key. Invalid prefixes in
// trusted match nothing. With no trusted prefix it is ClientIP.
func ClientIPBehind(trusted ...netip.Prefix) func(*http.Request) string {
	nets := make([]netip.Prefix, 0, len(trusted))
	for _, p := range trusted {
		if p.IsValid() {
			nets = append(nets, p.Masked())
		}
	}
	trust := func(a netip.Addr) bool {
		for _, p := range nets {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return func(r *http.Request) string {
		peer, ok := parseIP(r.RemoteAddr)
		if !ok {
			return "invalid"
		}
		if !trust(peer) {
			return ipKey(peer)
		}
		client := peer
		values := r.Header.Values("X-Forwarded-For")
		for i := len(values) - 1; i >= 0; i-- {
			for rest := values[i]; rest != ""; {
				j := strings.LastIndexByte(rest, ',')
				entry := strings.TrimSpace(rest[j+1:])
				rest = rest[:max(j, 0)]
				if entry == "" {
					continue
				}
				a, ok := parseIP(entry)
				if !ok {
					return "invalid"
				}
				if !trust(a) {
					return ipKey(a)
				}
				client = a
			}
		}
		return ipKey(client)
	}
}

// parseIP reads an address with or without a port: Request.RemoteAddr,
// or an X-Forwarded-For entry ("203.0.113.7:4711", "[2001:db8::1]:443",
// "2001:db8::1"). It reads RemoteAddr as ClientIP does.
func parseIP(s string) (netip.Addr, bool) {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// ipKey is the key of an address: IPv6 addresses by their /64, the unit
// a single host commonly holds, so rotating through it buys no new key.
func ipKey(a netip.Addr) string {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// HeaderKey returns a key function that keys a request by the first value
// of the header name, such as "X-API-Key" or "Authorization"; requests
// without it share the key "". A value longer than 64 bytes is keyed by
// its 64-bit FNV-1a hash ("#" and 16 hex digits), so a client cannot make
// a limiter hold long keys; that hash is not a secret, so do not key by
// a header whose value must stay private from whoever reads the keys
// (snapshots, logs) without hashing it first.
func HeaderKey(name string) func(*http.Request) string {
	name = textproto.CanonicalMIMEHeaderKey(name)
	return func(r *http.Request) string {
		vs := r.Header[name]
		if len(vs) == 0 {
			return ""
		}
		v := vs[0]
		if len(v) <= maxKeyLen {
			return v
		}
		h := fnv.New64a()
		_, _ = h.Write([]byte(v))
		return fmt.Sprintf("#%016x", h.Sum64())
	}
}

// RouteKey returns a key function that keys a request by its route: the
// pattern of mux that serves it ("GET /payments/{id}"), so that every
// payment shares one key however many IDs there are. A middleware that
// wraps mux sees requests before mux has routed them, hence the argument;
// inside mux (a handler it routes to), Request.Pattern is used as it is
// and mux may be nil. Requests no pattern matches share the key "".
func RouteKey(mux *http.ServeMux) func(*http.Request) string {
	return func(r *http.Request) string {
		if r.Pattern != "" || mux == nil {
			return r.Pattern
		}
		_, pattern := mux.Handler(r)
		return pattern
	}
}
