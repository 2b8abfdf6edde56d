package simulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
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
	// Every route the simulator's mux serves, read from its source, must
	// be in the document (the capture API's own routes live in
	// smsc/capture, checked there), and a few capture paths show that the
	// two documents were merged.
	routes := [][2]string{{"get", "/api/v1/messages"}, {"get", "/api/v1/otp"}}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	pattern := regexp.MustCompile(`(?:HandleFunc|Handle|HandlePublic)\("(GET|POST|PUT|PATCH|DELETE) (/[^"]*)"`)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range pattern.FindAllStringSubmatch(string(src), -1) {
			if m[2] == "/api/v1/openapi.json" {
				continue // the document itself
			}
			routes = append(routes, [2]string{strings.ToLower(m[1]), m[2]})
			n++
		}
	}
	if n < 15 {
		t.Fatalf("found %d routes in the source, expected the control API's", n)
	}
	for _, r := range routes {
		if _, ok := doc.Paths[r[1]][r[0]]; !ok {
			t.Errorf("openapi.json lacks %s %s", r[0], r[1])
		}
	}
}
