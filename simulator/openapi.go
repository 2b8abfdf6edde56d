package simulator

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/simlab-dev/simlab/smsc/capture"
)

// openAPIControl is the control API's OpenAPI document (a copy of
// docs/openapi-control.json, checked equal by a test).
//
//go:embed openapi_control.json
var openAPIControl []byte

// MergedOpenAPI returns the OpenAPI 3 document `simlab serve` serves at
// /api/v1/openapi.json: the capture API's (smsc/capture) and the control
// API's paths and components in one.
func MergedOpenAPI() ([]byte, error) {
	var capt, ctrl map[string]any
	if err := json.Unmarshal(capture.OpenAPI, &capt); err != nil {
		return nil, fmt.Errorf("capture OpenAPI: %w", err)
	}
	if err := json.Unmarshal(openAPIControl, &ctrl); err != nil {
		return nil, fmt.Errorf("control OpenAPI: %w", err)
	}
	out := capt
	if info, ok := out["info"].(map[string]any); ok {
		info["title"] = "simlab API (capture and control)"
		info["description"] = "Everything `simlab serve` offers over HTTP: the SMSC's capture API (messages, OTPs, waits, faults) and the control API of the emulated fleet (phones, behaviours, events, numbers)."
	}
	mergeObj(out, ctrl, "paths")
	if cc, ok := ctrl["components"].(map[string]any); ok {
		oc, _ := out["components"].(map[string]any)
		if oc == nil {
			oc = map[string]any{}
			out["components"] = oc
		}
		for _, k := range []string{"schemas", "securitySchemes", "parameters", "responses"} {
			mergeObj(oc, cc, k)
		}
	}
	if tags, ok := ctrl["tags"].([]any); ok {
		ot, _ := out["tags"].([]any)
		out["tags"] = append(ot, tags...)
	}
	return json.MarshalIndent(out, "", "  ")
}

// mergeObj copies the entries of src[key] into dst[key]; dst's win on a
// clash (the shared Error schema and bearer scheme are the same in both).
func mergeObj(dst, src map[string]any, key string) {
	s, ok := src[key].(map[string]any)
	if !ok {
		return
	}
	d, _ := dst[key].(map[string]any)
	if d == nil {
		d = map[string]any{}
		dst[key] = d
	}
	for k, v := range s {
		if _, clash := d[k]; !clash {
			d[k] = v
		}
	}
}

// mergedOpenAPI is MergedOpenAPI computed once.
var mergedOpenAPI = sync.OnceValues(MergedOpenAPI)

// serveOpenAPI serves the API document at GET /api/v1/openapi.json, its
// one path, public like /healthz (it holds no secret, and tools read it
// before they have a token).
func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	doc, err := mergedOpenAPI()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "openapi: %v", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(doc)
}
