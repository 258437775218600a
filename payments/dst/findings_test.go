package dst

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFindings replays every world TestWorlds found breaking an invariant
// (testdata/findings, each shrunk by rapid then by hand; see the package
// doc, "Findings"). Each must now keep every invariant — or, when the fix
// was for gateway.New to refuse such a configuration, be refused naming
// the field, and keep every invariant once that field is raised to the
// least value New accepts.
func TestFindings(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "findings", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			w, err := ReadWorld(data)
			require.NoError(t, err)
			o := Run(t, w)
			if o.Refused {
				t.Logf("the gateway refuses the configuration: %s", o.Err)
				require.Contains(t, o.Err, "ClaimTTL", "the only finding fixed by a refusal")
				w.Gateway.ClaimTTL = Duration(w.Gateway.claimFloor(w.banks()))
				o = Run(t, w)
				require.Empty(t, o.Err, "ClaimTTL at its floor, %s", w.Gateway.ClaimTTL)
			}
			for _, v := range Check(o) {
				t.Errorf("%s", v)
			}
		})
	}
}

// openFindings are worlds that still break an invariant, each with the
// invariant: a gateway bug found and not fixed yet (see the package doc,
// "Findings"). TestOpenFindings requires each still to break it, so that
// the fix is noticed: then the world moves to testdata/findings.
var openFindings = map[string]string{}

func TestOpenFindings(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "open", "*.json"))
	require.NoError(t, err)
	require.Len(t, files, len(openFindings), "every file in testdata/open listed in openFindings")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			want, ok := openFindings[filepath.Base(file)]
			require.True(t, ok, "listed in openFindings")
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			w, err := ReadWorld(data)
			require.NoError(t, err)
			var broken []string
			for _, v := range Check(Run(t, w)) {
				t.Logf("%.300s", v)
				broken = append(broken, v.Invariant)
			}
			require.Contains(t, broken, want, "fixed? move the world to testdata/findings and say so in the package doc")
		})
	}
}
