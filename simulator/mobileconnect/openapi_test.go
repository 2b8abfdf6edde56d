package mobileconnect_test

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestControlRoutesInOpenAPI: every control route the gateway registers
// is in the OpenAPI document simlab serves.
func TestControlRoutesInOpenAPI(t *testing.T) {
	t.Parallel()
	s, _ := server(t, nil)
	resp, err := http.Get(s.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("gateway.go")
	if err != nil {
		t.Fatal(err)
	}
	routes := regexp.MustCompile(`ctl\("(GET|POST|PUT|DELETE) (/api/v1/[^"]*)"`).FindAllStringSubmatch(string(src), -1)
	if len(routes) < 4 {
		t.Fatalf("found %d control routes", len(routes))
	}
	for _, r := range routes {
		if _, ok := doc.Paths[r[2]][strings.ToLower(r[1])]; !ok {
			t.Errorf("openapi.json lacks %s %s", r[1], r[2])
		}
	}
}
