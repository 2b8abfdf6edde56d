package simulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"testing"
)

func TestControlOpenAPIMatchesDocs(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/openapi-control.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(doc, openAPIControl) {
		t.Fatal("simulator/openapi_control.json differs from docs/openapi-control.json: copy the docs version over")
	}
}

// TestServedOpenAPIHasBothAPIs: /api/v1/openapi.json documents the capture
// and the control API, and every control route the mux serves.
func TestServedOpenAPIHasBothAPIs(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{SMPPAddr: "off"})
	resp, err := http.Get("http://" + s.Addrs().HTTP + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	for path, method := range map[string]string{
		"/api/v1/messages":               "get",
		"/api/v1/otp":                    "get",
		"/api/v1/phones":                 "get",
		"/api/v1/phones/{msisdn}":        "put",
		"/api/v1/phones/{msisdn}/events": "get",
		"/api/v1/numbers":                "get",
	} {
		if _, ok := doc.Paths[path][method]; !ok {
			t.Errorf("openapi.json lacks %s %s", method, path)
		}
	}
}
