package fleet_test

import (
	"context"
	"testing"

	"github.com/simlab-dev/simlab/applet/uicc"
	"github.com/simlab-dev/simlab/fixtures/cards"
	"github.com/simlab-dev/simlab/hsm/soft"
	"github.com/simlab-dev/simlab/simulator/fleet"
)

// TestProfilePINSupportOption: a card profile whose authn applet sets
// pin_supported: "false" gives cards without PIN support, as docs/uicc.md
// says; "true" or no option leaves the PIN on.
func TestProfilePINSupportOption(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		value   string // "" leaves the option out
		wantPIN bool
	}{{"false", false}, {"true", true}, {"", true}} {
		tmpl, err := uicc.ParseProfile(cards.Default)
		if err != nil {
			t.Fatal(err)
		}
		for i := range tmpl.Applets {
			if tmpl.Applets[i].Name != "authn" {
				continue
			}
			opts := map[string]string{}
			if c.value != "" {
				opts["pin_supported"] = c.value
			}
			tmpl.Applets[i].Options = opts
		}
		_, a, err := fleet.NewCard(context.Background(), soft.NewMemory(), tmpl, fleet.FleetNumber(5), fleet.CardOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := a.State().Supported; got != c.wantPIN {
			t.Errorf("pin_supported %q: PIN supported %v, want %v", c.value, got, c.wantPIN)
		}
	}
}
