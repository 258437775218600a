package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/riprap-go/riprap/resilience/httpx"
)

func TestHostKey(t *testing.T) {
	cases := []struct{ url, want string }{
		{"https://api.example.com/x", "api.example.com"},
		{"https://API.Example.com:443/x", "api.example.com"},
		{"http://api.example.com:80/", "api.example.com"},
		{"http://api.example.com:443/", "api.example.com:443"},
		{"https://api.example.com:8443/", "api.example.com:8443"},
		{"http://127.0.0.1:8080/", "127.0.0.1:8080"},
		{"http://[::1]:80/", "[::1]"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(http.MethodGet, tc.url, nil)
		assert.Equal(t, tc.want, httpx.HostKey(r), tc.url)
	}
	r := &http.Request{URL: &urlWithoutHost, Host: "Fallback.test"}
	assert.Equal(t, "fallback.test", httpx.HostKey(r), "Request.Host when the URL has none")
}

var urlWithoutHost = *httptest.NewRequest(http.MethodGet, "/path", nil).URL

var proxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}

func TestClientIPBehind(t *testing.T) {
	cases := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"an untrusted peer is the client, whatever it says", "203.0.113.7:5000", []string{"198.51.100.1"}, "203.0.113.7"},
		{"a trusted proxy without the header", "10.0.0.1:443", nil, "10.0.0.1"},
		{"one proxy", "10.0.0.1:443", []string{"203.0.113.7"}, "203.0.113.7"},
		{"the rightmost untrusted entry wins", "10.0.0.1:443", []string{"198.51.100.66, 203.0.113.7, 10.0.0.2"}, "203.0.113.7"},
		{"several header lines read as one list", "10.0.0.1:443", []string{"198.51.100.66", "203.0.113.7", "10.0.0.2"}, "203.0.113.7"},
		{"a spoofed entry left of the client is ignored", "10.0.0.1:443", []string{"10.9.9.9, 203.0.113.7"}, "203.0.113.7"},
		{"every hop trusted: the leftmost", "10.0.0.1:443", []string{"10.1.1.1, 10.2.2.2"}, "10.1.1.1"},
		{"ports and brackets are read", "10.0.0.1:443", []string{"[2001:db8:1::5]:80"}, "2001:db8:1::/64"},
		{"an entry with a port", "10.0.0.1:443", []string{"203.0.113.7:4711"}, "203.0.113.7"},
		{"IPv6 proxies", "[2001:db8:ffff::1]:443", []string{"203.0.113.7"}, "203.0.113.7"},
		{"a mapped IPv4 peer", "[::ffff:10.0.0.1]:443", []string{"203.0.113.7"}, "203.0.113.7"},
		{"empty entries are skipped", "10.0.0.1:443", []string{"203.0.113.7, ,"}, "203.0.113.7"},
		{"garbage where the client should be", "10.0.0.1:443", []string{"203.0.113.7, unknown"}, "invalid"},
		{"a bad peer address", "pipe", nil, "invalid"},
	}
	key := httpx.ClientIPBehind(append(proxies, netip.Prefix{})...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			assert.Equal(t, tc.want, key(r))
		})
	}
}

func TestClientIPBehindNobodyIsClientIP(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "203.0.113.7:5000"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	assert.Equal(t, httpx.ClientIP(r), httpx.ClientIPBehind()(r))
}

// FuzzClientIPBehind: whatever the peer and the header, the key is
// "invalid" or an address (or an IPv6 /64), never a panic; and a peer
// outside the trusted proxies gets ClientIP's key.
func FuzzClientIPBehind(f *testing.F) {
	f.Add("10.0.0.1:443", "203.0.113.7")
	key := httpx.ClientIPBehind(proxies...)
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := &http.Request{RemoteAddr: remote, Header: http.Header{"X-Forwarded-For": {xff}}}
		got := key(r)
		if got != "invalid" {
			_, errA := netip.ParseAddr(got)
			_, errP := netip.ParsePrefix(got)
			if errA != nil && errP != nil {
				t.Fatalf("%q, %q: key %q is not an address", remote, xff, got)
			}
		}
		want := httpx.ClientIP(r)
		trusted := false
		if a, err := netip.ParseAddr(want); err == nil {
			trusted = proxies[0].Contains(a) || proxies[1].Contains(a)
		}
		if p, err := netip.ParsePrefix(want); err == nil {
			trusted = proxies[1].Overlaps(p)
		}
		if (want == "invalid" || !trusted) && got != want {
			t.Fatalf("%q, %q: got %q, ClientIP says %q", remote, xff, got, want)
		}
	})
}

func TestHeaderKey(t *testing.T) {
	key := httpx.HeaderKey("x-api-key")
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	assert.Equal(t, "", key(r))
	r.Header.Set("X-Api-Key", "merchant-7")
	assert.Equal(t, "merchant-7", key(r))
	long := strings.Repeat("k", 65)
	r.Header.Set("X-Api-Key", long)
	got := key(r)
	assert.Len(t, got, 17)
	assert.True(t, strings.HasPrefix(got, "#"))
	r.Header.Set("X-Api-Key", long+"x")
	assert.NotEqual(t, got, key(r))
}

func TestRouteKey(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /payments/{id}", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("POST /payments", func(http.ResponseWriter, *http.Request) {})
	key := httpx.RouteKey(mux)
	cases := []struct{ method, path, want string }{
		{http.MethodGet, "/payments/41", "GET /payments/{id}"},
		{http.MethodGet, "/payments/42", "GET /payments/{id}"},
		{http.MethodPost, "/payments", "POST /payments"},
		{http.MethodGet, "/nowhere", ""},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, key(httptest.NewRequest(tc.method, tc.path, nil)), tc.path)
	}

	var inside string
	mux.HandleFunc("GET /refunds/{id}", func(_ http.ResponseWriter, r *http.Request) {
		inside = httpx.RouteKey(nil)(r)
	})
	mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/refunds/9", nil))
	assert.Equal(t, "GET /refunds/{id}", inside, "inside the mux, Request.Pattern")
}
