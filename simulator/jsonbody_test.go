package simulator

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/simulator/fleet"
)

// TestJSONBodiesRefuseTrailingData: every endpoint of `simlab serve` that
// reads a JSON body answers 400 to two JSON documents in one body instead
// of applying the first, and the first is not applied.
func TestJSONBodiesRefuseTrailingData(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{SMPPAddr: "off"})
	base := "http://" + s.Addrs().HTTP
	n := fleet.FleetNumber(7)
	for _, tc := range []struct{ method, path, body string }{
		{"PUT", "/api/v1/phones/" + n, `{"absent":true}{"absent":false}`},
		{"PUT", "/api/v1/phones/" + n, `{"absent":true} x`},
		{"POST", "/api/v1/faults", `{"dest":"999000207","submit_status":8}{"dest":"1"}`},
		{"POST", "/api/v1/attached", `{"reader":"r","msisdn":"` + n + `"}{"reader":"s"}`},
	} {
		req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "trailing data") {
			t.Errorf("%s %s %s: %d %s, want 400 naming the trailing data", tc.method, tc.path, tc.body, resp.StatusCode, b)
		}
	}
	p, err := s.Core().Fleet.Phone(t.Context(), n)
	if err != nil {
		t.Fatal(err)
	}
	if p.Info().Settings.Absent {
		t.Error("the first document of a refused body was applied")
	}
	if f := s.Core().Capture.Faults.List(); len(f) != 0 {
		t.Errorf("faults installed from a refused body: %+v", f)
	}
}
