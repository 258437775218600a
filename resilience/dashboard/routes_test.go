package dashboard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience/dashboard"
)

func TestRoutes(t *testing.T) {
	d, err := dashboard.New(dashboard.Config{})
	require.NoError(t, err)
	for _, c := range []struct {
		method, path string
		code         int
	}{
		{http.MethodGet, "/", http.StatusOK},
		{http.MethodGet, "/snapshot", http.StatusOK},
		{http.MethodGet, "/nothing", http.StatusNotFound},
		{http.MethodGet, "/events/", http.StatusNotFound},
		{http.MethodPost, "/", http.StatusMethodNotAllowed},
		{http.MethodPut, "/snapshot", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/events", http.StatusMethodNotAllowed},
		{http.MethodHead, "/events", http.StatusMethodNotAllowed},
		{http.MethodPost, "/nothing", http.StatusNotFound},
	} {
		rec := httptest.NewRecorder()
		d.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		assert.Equal(t, c.code, rec.Code, "%s %s", c.method, c.path)
		if c.code == http.StatusMethodNotAllowed {
			assert.Equal(t, "GET", rec.Header().Get("Allow"), "%s %s", c.method, c.path)
		}
	}
}

// TestPageIsSelfContained: the page loads nothing from anywhere, so it
// works offline, and its policy forbids it to.
func TestPageIsSelfContained(t *testing.T) {
	d, err := dashboard.New(dashboard.Config{})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	csp := rec.Header().Get("Content-Security-Policy")
	assert.Contains(t, csp, "default-src 'none'")
	assert.Contains(t, csp, "connect-src 'self'")

	page := rec.Body.String()
	assert.Contains(t, page, "new EventSource('events'", "the stream is asked for relative to the page")
	assert.Contains(t, page, ".seg[data-state=\"half_open\"] { z-index: 3; min-width: 6px;", "the style is inline")
	assert.NotContains(t, page, "/*STYLE*/")
	assert.NotContains(t, page, "/*SCRIPT*/")
	for _, external := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)<script[^>]+src=`),
		regexp.MustCompile(`(?i)<link[^>]+href=`),
		regexp.MustCompile(`(?i)@import`),
		regexp.MustCompile(`(?i)url\(`),
		regexp.MustCompile(`(?i)https?://`),
	} {
		assert.NotRegexp(t, external, page)
	}
}

// FuzzRequest: whatever a client sends, the handler answers with a status
// it documents and never panics. Contexts are cancelled up front, so a
// stream it accepts ends at once.
func FuzzRequest(f *testing.F) {
	f.Add("GET", "/events", "max=30s")
	f.Add("GET", "/events", "max=-5m")
	f.Add("GET", "/events", "max=9999999999h")
	f.Add("POST", "/snapshot", "")
	f.Add("GET", "/../events", "max=%zz")
	d, err := dashboard.New(dashboard.Config{})
	require.NoError(f, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.Fuzz(func(t *testing.T, method, path, query string) {
		if !regexp.MustCompile(`^[A-Z]{1,10}$`).MatchString(method) {
			t.Skip()
		}
		r := httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx)
		r.Method, r.URL = method, &url.URL{Path: path, RawQuery: query}
		rec := httptest.NewRecorder()
		d.ServeHTTP(rec, r)
		assert.Contains(t, []int{200, 400, 404, 405}, rec.Code, "%s %q ?%q", method, path, query)
	})
}
