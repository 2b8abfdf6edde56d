package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDevices runs the real inventory of this host; the classification and
// hints are tested with fixtures in simulator/devices.
func TestDevices(t *testing.T) {
	t.Parallel()
	code, out, stderr := runCLI(t, "devices", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("devices --json is not JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"usb", "serial_ports", "readers"} {
		if _, ok := v[k]; !ok {
			t.Errorf("devices --json lacks %q:\n%s", k, out)
		}
	}
	code, out, _ = runCLI(t, "devices")
	if code != exitOK || !strings.Contains(out, "USB devices:") || !strings.Contains(out, "PC/SC readers:") {
		t.Fatalf("devices: exit %d:\n%s", code, out)
	}
}
