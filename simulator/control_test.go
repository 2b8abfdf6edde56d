package simulator

import (
	"context"
	"crypto"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/simlab-dev/simlab/fixtures/keys"
	"github.com/simlab-dev/simlab/hsm/soft"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/load"
)

// signerCounter is a key store that counts signing key look-ups: the
// public key of a phone whose card was put away costs one.
type signerCounter struct {
	*soft.Store
	n atomic.Int64
}

func (s *signerCounter) Signer(ctx context.Context, ref string) (crypto.Signer, error) {
	s.n.Add(1)
	return s.Store.Signer(ctx, ref)
}

// TestMetricsScrapeLooksUpNoKeys: /metrics counts phones by condition from
// their settings and PIN state alone; scraping phones whose cards are put
// away looks up no signing key (the phone detail still shows it).
func TestMetricsScrapeLooksUpNoKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ks := &signerCounter{Store: soft.NewMemory()}
	if err := keys.LoadMasters(ctx, ks.Store); err != nil {
		t.Fatal(err)
	}
	fl, err := fleet.New(fleet.Config{Keystore: ks, MaxCards: 1})
	if err != nil {
		t.Fatal(err)
	}
	blocked, err := fleet.MagicNumberFor("pin-blocked", 0)
	if err != nil {
		t.Fatal(err)
	}
	absent, err := fleet.MagicNumberFor("absent", 0)
	if err != nil {
		t.Fatal(err)
	}
	numbers := []string{blocked, absent, fleet.FleetNumber(1), fleet.FleetNumber(2)}
	for _, n := range numbers {
		if _, err := fl.Phone(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range numbers[:3] {
		if p, _ := fl.Lookup(n); p.Resident() {
			t.Fatalf("%s kept its card: the test would not scrape put-away cards", n)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(&fleetCollector{fleet: fl, sessions: &load.SessionLatency{}})
	before := ks.n.Load()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if got := ks.n.Load() - before; got != 0 {
		t.Errorf("a scrape of %d phones looked up %d signing keys, want none", len(numbers), got)
	}
	body := rec.Body.String()
	for _, want := range []string{
		"simlab_phones_materialised 4\n",
		`simlab_phones{condition="absent"} 1` + "\n",
		`simlab_phones{condition="blocked"} 1` + "\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}

	// The phone detail still shows the put-away card's public key.
	p, _ := fl.Lookup(numbers[2])
	before = ks.n.Load()
	if in := p.Info(); len(in.PublicKey) != 66 || !in.PIN.Supported || in.PIN.Blocked {
		t.Errorf("detail: public key %q, PIN %+v; want a compressed P-256 key and a usable PIN", in.PublicKey, in.PIN)
	}
	if ks.n.Load() == before {
		t.Error("the detail of a put-away card looked up no signing key: the scrape's count proves nothing")
	}
}
