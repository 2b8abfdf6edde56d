package simulator

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"testing"

	"github.com/simlab-dev/simlab/simulator/fleet"
)

// TestNumbersDescribeThePlan: GET /api/v1/numbers describes the plan the
// server runs, the embedded one or a fleet file, as a fleet.Directory a
// sender can derive keys from; "magic" and "fleet" stay for older clients.
func TestNumbersDescribeThePlan(t *testing.T) {
	t.Parallel()
	const file = "../fixtures/fleets/lab.yaml"
	plan, err := fleet.LoadPlan(file)
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := plan.Directory()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		fleet     string
		want      *fleet.Directory
		wantFleet bool
	}{{"", fleet.DefaultDirectory(), true}, {file, fromFile, false}} {
		s := startTest(t, Config{SMPPAddr: "off", Fleet: c.fleet})
		resp, err := http.Get("http://" + s.Addrs().HTTP + "/api/v1/numbers")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got, err := fleet.ParseDirectory(b)
		if err != nil {
			t.Fatalf("fleet %q: %v\n%s", c.fleet, err, b)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("fleet %q: served %+v, want %+v", c.fleet, got, c.want)
		}
		var legacy struct {
			Magic []fleet.RangeInfo `json:"magic"`
			Fleet *struct {
				Range [2]string `json:"range"`
				Size  int       `json:"size"`
			} `json:"fleet"`
		}
		if err := json.Unmarshal(b, &legacy); err != nil {
			t.Fatal(err)
		}
		named := 0
		for _, r := range c.want.Ranges {
			if r.Name != "" {
				named++
			}
		}
		if len(legacy.Magic) != named || (legacy.Fleet != nil) != c.wantFleet {
			t.Errorf("fleet %q: %d magic ranges (want %d), fleet %+v", c.fleet, len(legacy.Magic), named, legacy.Fleet)
		}
		if c.wantFleet && (legacy.Fleet.Size != fleet.FleetSize || legacy.Magic[0].Code == nil || *legacy.Magic[0].Code != 0) {
			t.Errorf("embedded plan: fleet %+v, first magic %+v", legacy.Fleet, legacy.Magic[0])
		}
	}
}
