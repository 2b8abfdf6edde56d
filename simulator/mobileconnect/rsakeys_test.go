package mobileconnect_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/simlab-dev/simlab/hsm/soft"
	"github.com/simlab-dev/simlab/simulator/mobileconnect"
)

// TestRSAKeysOnFirstNeed: a gateway makes its RSA keys (RS256 signing,
// ENCR_MSISDN) when first asked for them — here the JWKS — not at start,
// so a server whose gateway nobody uses does not spend the CPU; closed
// before that, it never makes them.
func TestRSAKeysOnFirstNeed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	labels := func(ks *soft.Store) []string {
		infos, err := ks.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, in := range infos {
			out = append(out, in.Label)
		}
		slices.Sort(out)
		return out
	}
	dir := mobileconnect.DirectoryFunc(func(_ context.Context, n string) (mobileconnect.Subscriber, error) {
		return mobileconnect.Subscriber{MSISDN: n}, nil
	})
	start := func(ks *soft.Store) *mobileconnect.Gateway {
		gw, err := mobileconnect.New(ctx, mobileconnect.Config{}, "http://127.0.0.1:9/mc",
			mobileconnect.Deps{Challenger: noChallenges{}, Directory: dir, Keystore: ks})
		if err != nil {
			t.Fatal(err)
		}
		return gw
	}
	unused := soft.NewMemory()
	start(unused).Close()
	if got := labels(unused); !slices.Equal(got, []string{"mc/pcr", "mc/sign/es256/1"}) {
		t.Fatalf("an unused gateway's keys: %q", got)
	}

	used := soft.NewMemory()
	gw := start(used)
	defer gw.Close()
	w := httptest.NewRecorder()
	gw.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/mc/jwks", nil))
	if w.Code != 200 {
		t.Fatalf("JWKS: %d %s", w.Code, w.Body)
	}
	if got := labels(used); !slices.Equal(got, []string{"mc/encr-msisdn", "mc/pcr", "mc/sign/es256/1", "mc/sign/rs256/1"}) {
		t.Fatalf("after the JWKS: %q", got)
	}
}
