package simulator

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/internal/testlog"
)

// TestNoFleetNoGateway: serve --no-fleet starts no Mobile Connect gateway
// (no phone could answer a login, and it would hold two SMPP binds for
// nothing), says so in its log, and mounts no /mc; with the fleet it runs.
func TestNoFleetNoGateway(t *testing.T) {
	t.Parallel()
	for _, noFleet := range []bool{true, false} {
		var logs testlog.Buffer
		s := startTest(t, Config{NoFleet: noFleet, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		resp, err := http.Get("http://" + s.Addrs().HTTP + "/mc/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		said := strings.Contains(logs.String(), "mobile connect gateway off: --no-fleet")
		if noFleet && (s.MobileConnect() != nil || resp.StatusCode != http.StatusNotFound || !said) {
			t.Fatalf("--no-fleet: gateway %v, discovery %d, log said so %v; want none, 404, yes", s.MobileConnect() != nil, resp.StatusCode, said)
		}
		if !noFleet && (s.MobileConnect() == nil || resp.StatusCode != http.StatusOK || said) {
			t.Fatalf("with the fleet: gateway %v, discovery %d; want it running, 200", s.MobileConnect() != nil, resp.StatusCode)
		}
	}
}
