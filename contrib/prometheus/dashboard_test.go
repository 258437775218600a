package riprapprom_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	riprapprom "github.com/riprap-go/riprap/contrib/prometheus"
)

var (
	fqName     = regexp.MustCompile(`fqName: "([^"]+)"`)
	metricName = regexp.MustCompile(`riprap_[a-z0-9_]+`)
)

// describedNames returns the family names the collectors announce.
func describedNames(t *testing.T, cs ...prometheus.Collector) []string {
	t.Helper()
	var names []string
	for _, c := range cs {
		ch := make(chan *prometheus.Desc, 200)
		c.Describe(ch)
		close(ch)
		for d := range ch {
			m := fqName.FindStringSubmatch(d.String())
			require.NotNil(t, m, "desc %s", d)
			names = append(names, m[1])
		}
	}
	sort.Strings(names)
	return names
}

func allDescribed(t *testing.T) []string {
	d, err := riprapprom.NewCallDuration(riprapprom.CallDurationConfig{})
	require.NoError(t, err)
	return describedNames(t, riprapprom.NewCollector(), d)
}

func TestMetricNamesMatchDescribe(t *testing.T) {
	names := riprapprom.MetricNames()
	sort.Strings(names)
	assert.Equal(t, allDescribed(t), names)
}

// queries gathers the PromQL of a dashboard: every "expr", "query" and
// "definition" string anywhere in it.
func queries(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && (k == "expr" || k == "query" || k == "definition") {
				*out = append(*out, s)
				continue
			}
			queries(x, out)
		}
	case []any:
		for _, x := range v {
			queries(x, out)
		}
	}
}

// TestDashboardUsesExportedNames parses the Grafana dashboard and checks
// that each metric it queries is one the collectors describe, so a renamed
// metric cannot leave a dashboard silently empty.
func TestDashboardUsesExportedNames(t *testing.T) {
	raw, err := os.ReadFile("grafana/riprap.json")
	require.NoError(t, err)
	var dash map[string]any
	require.NoError(t, json.Unmarshal(raw, &dash))
	var qs []string
	queries(dash, &qs)
	require.NotEmpty(t, qs)

	described := allDescribed(t)
	used := map[string]bool{}
	for _, q := range qs {
		for _, name := range metricName.FindAllString(q, -1) {
			used[name] = true
			if base, ok := strings.CutSuffix(name, "_bucket"); ok && base == "riprap_call_duration_seconds" {
				name = base
			}
			assert.True(t, slices.Contains(described, name), "dashboard query %q uses %s, which no collector describes", q, name)
		}
	}
	// The headline metrics are on it.
	for _, name := range []string{"riprap_circuitbreaker_state", "riprap_circuitbreaker_calls_total",
		"riprap_circuitbreaker_failure_rate", "riprap_ratelimiter_available_permissions",
		"riprap_bulkhead_available_concurrent_calls", "riprap_timeout_calls_total", "riprap_health_status",
		"riprap_retry_retries_total", "riprap_call_duration_seconds_bucket"} {
		assert.True(t, used[name], "dashboard does not show %s", name)
	}
}
