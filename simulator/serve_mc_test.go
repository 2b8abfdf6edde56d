package simulator

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a log sink the server's goroutines may write at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestNoFleetNoGateway: serve --no-fleet starts no Mobile Connect gateway
// (no phone could answer a login, and it would hold two SMPP binds for
// nothing), says so in its log, and mounts no /mc; with the fleet it runs.
func TestNoFleetNoGateway(t *testing.T) {
	t.Parallel()
	for _, noFleet := range []bool{true, false} {
		var logs lockedBuffer
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
