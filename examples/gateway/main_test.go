package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/riprap-go/riprap/resilience"
)

func TestJSONLogsCarryStateChangesOnly(t *testing.T) {
	var out bytes.Buffer
	l := stateChangesOnly(resilience.SlogListener(newLogger(&out, true), resilience.SlogOptions{}))
	l(resilience.Event{Kind: resilience.EventRetry, Policy: "retry", Name: "bank", Attempt: 2})
	l(resilience.Event{Kind: resilience.EventStateChange, Policy: "breaker", Name: "bank", From: "closed", To: "open",
		Degraded: true, Reason: "5 consecutive failures", Detail: struct{ Big string }{"dropped"}})
	var rec map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &rec), "exactly one JSON record: %s", out.String())
	assert.Equal(t, "WARN", rec["level"])
	assert.Equal(t, "state change", rec["msg"])
	assert.Equal(t, "open", rec["to"])
	assert.NotContains(t, rec, "snapshot", "snapshots are dropped to keep lines short")
}

func TestSwitchHandlerServesTheCurrentGatewayOnly(t *testing.T) {
	h, serve := switchHandler()
	get := func() (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		return rec.Code, rec.Body.String()
	}
	code, _ := get()
	assert.Equal(t, http.StatusServiceUnavailable, code)
	end := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `{"pending":0}`) }))
	code, body := get()
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, `{"pending":0}`, body)
	end()
	code, _ = get()
	assert.Equal(t, http.StatusServiceUnavailable, code)
}

func TestStatusServerListens(t *testing.T) {
	var out bytes.Buffer
	_, stop, err := statusServer("127.0.0.1:0", &out)
	require.NoError(t, err)
	defer stop()
	url := strings.TrimSpace(strings.TrimPrefix(out.String(), "serving the gateway status on "))
	resp, err := http.Get(url)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)

	_, _, err = statusServer("256.0.0.1:1", io.Discard)
	assert.ErrorContains(t, err, "-listen:")
}
