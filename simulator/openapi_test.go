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

// TestOpenAPIDocuments400: checkQuery answers 400 for a query parameter an
// /api/v1/ operation does not declare, so every such operation of the
// served document — with query parameters or none — lists a 400 response,
// and a response given by $ref names one the document has.
func TestOpenAPIDocuments400(t *testing.T) {
	t.Parallel()
	doc, err := MergedOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Responses map[string]json.RawMessage `json:"responses"`
		} `json:"components"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	params, err := parseQueryParams(doc)
	if err != nil {
		t.Fatal(err)
	}
	n, withQuery := 0, 0
	for path, item := range d.Paths {
		if !strings.HasPrefix(path, "/api/v1/") {
			continue
		}
		for method, raw := range item {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			var op struct {
				Responses map[string]struct {
					Ref string `json:"$ref"`
				} `json:"responses"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			n++
			if len(params[strings.ToUpper(method)+" "+path]) > 0 {
				withQuery++
			}
			if _, ok := op.Responses["400"]; !ok {
				t.Errorf("%s %s lists no 400 (an unknown query parameter is answered 400)", method, path)
				continue
			}
			for code, r := range op.Responses {
				if name, isRef := strings.CutPrefix(r.Ref, "#/components/responses/"); isRef && d.Components.Responses[name] == nil {
					t.Errorf("%s %s: response %s refers to %s, which the document lacks", method, path, code, r.Ref)
				}
			}
		}
	}
	if n < 40 || withQuery < 10 {
		t.Fatalf("%d /api/v1/ operations, %d with query parameters: expected the capture and control APIs'", n, withQuery)
	}
}
