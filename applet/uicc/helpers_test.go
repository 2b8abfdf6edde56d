package uicc

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/hsm/soft"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

var fixedClock = func() time.Time { return time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC) }

// testProfile is a profile with the test applets used across the tests.
const testProfile = `
name: test
iccid: "8999901000000000005"
imsi: "999990000000001"
msisdn: "+999100000001"
spn: simlab
smsc: "+999000000000"
pin1: {value: "1234"}
puk1: {value: "12345678"}
adm1: {value: "88888888"}
applets:
  - name: prompt
    aid: "F073696D6C616201"
  - name: rfm
`

func loadProfile(t testing.TB, y string) *Profile {
	t.Helper()
	p, err := ParseProfile([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newCard(t testing.TB, y string) *Card {
	t.Helper()
	p := loadProfile(t, y)
	ks := soft.NewMemory()
	t.Cleanup(func() { ks.Close() })
	if err := p.ImportKeys(context.Background(), ks); err != nil {
		t.Fatal(err)
	}
	c, err := New(p, Options{Clock: fixedClock, Keystore: ks})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tx sends hex and returns the R-APDU as upper-case hex.
func tx(t testing.TB, c *Card, capdu string) string {
	t.Helper()
	r, err := c.Transmit(context.Background(), unhex(t, capdu))
	if err != nil {
		t.Fatalf("Transmit %s: %v", capdu, err)
	}
	return strings.ToUpper(hex.EncodeToString(r))
}

// step is one APDU and the expected R-APDU: a full hex answer, or only the
// status word when want has 4 hex digits, or a prefix ending in "…" then SW.
type step struct {
	capdu string
	want  string
}

func run(t *testing.T, c *Card, steps []step) {
	t.Helper()
	for i, s := range steps {
		got := tx(t, c, s.capdu)
		want := strings.ToUpper(strings.ReplaceAll(s.want, " ", ""))
		switch {
		case strings.Contains(want, "…"):
			pre, sw, _ := strings.Cut(want, "…")
			if !strings.HasPrefix(got, pre) || !strings.HasSuffix(got, sw) {
				t.Errorf("step %d %s: got %s, want %s", i, s.capdu, got, want)
			}
		case len(want) == 4:
			if got[len(got)-4:] != want {
				t.Errorf("step %d %s: got %s, want SW %s", i, s.capdu, got, want)
			}
		default:
			if got != want {
				t.Errorf("step %d %s: got %s, want %s", i, s.capdu, got, want)
			}
		}
	}
}
