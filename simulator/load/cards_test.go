package load

import (
	"context"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/simulator/fleet"
)

// TestWarmBounded: Warm derives cards' keys into the target's key store,
// which keeps no more cards than its bound.
func TestWarmBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ks, err := fleet.NewKeyStore(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	nums, err := ParseRange(fleet.FleetNumber(40) + "-" + fleet.FleetNumber(49))
	if err != nil {
		t.Fatal(err)
	}
	c := &Challenges{Numbers: nums, keys: ks}
	if err := c.Warm(ctx, 0); err != nil {
		t.Fatal(err)
	}
	l, err := ks.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cards := map[string]bool{}
	for _, k := range l {
		if rest, ok := strings.CutPrefix(k.Label, "card/"); ok {
			iccid, _, _ := strings.Cut(rest, "/")
			cards[iccid] = true
		}
	}
	if len(cards) != 4 {
		t.Errorf("keys of %d cards held after warming 10 numbers, want the bound 4", len(cards))
	}
}
