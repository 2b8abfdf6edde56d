package simulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/simlab-dev/simlab/smsc"
)

// Route hands a set of numbers to an SMSC of their own (`routes:` in
// serve's configuration; docs/smsc.md, "Routes"): typically a simlab fleet
// process serving those numbers, so that one front SMSC spreads a fleet
// over several servers. In YAML:
//
//	routes:
//	  - numbers: ["99901000000-99901499999"]
//	    to: smpp://front:secret1@fleet-0:2775
//	    binds: 2
//
// The front binds to the upstream as transceiver (an upstream bearer,
// AddBearer): messages to the numbers go out as submit_sm; the upstream's
// receipt of each gives its final state here (the front always asks for
// one); the phones' answers (MO) come back on the same binds and go to the
// ESME that asked by the front's reply routing.
type Route struct {
	// Numbers are LO-HI ranges of equal-length numbers, single numbers,
	// or PREFIX* (a leading '+' is ignored). A number in two routes goes
	// by the narrowest (exact, then the narrowest range, then the longest
	// prefix).
	Numbers []string `yaml:"numbers" json:"numbers"`
	// To is smpp://USER:PASS@HOST:PORT, or smpps://… for TLS. It holds a
	// password: kept out of JSON output.
	To string `yaml:"to" json:"-"`
	// Binds is how many transceiver sessions to open (default 1).
	Binds int `yaml:"binds" json:"binds,omitempty"`
	// Window is the submit_sm outstanding per session (default 50).
	Window int `yaml:"window" json:"window,omitempty"`
}

// Bounds of a route's sessions.
const (
	maxRouteBinds  = 64
	maxRouteWindow = 1000
	// DefaultRouteWindow is a route's default window per session.
	DefaultRouteWindow = 50
)

// routeNumbers parses r.Numbers.
func (r Route) routeNumbers() (ranges []smsc.Range, prefixes []string, err error) {
	if len(r.Numbers) == 0 {
		return nil, nil, errors.New("numbers: none given")
	}
	for _, n := range r.Numbers {
		rg, pfx, err := smsc.ParseRange(n)
		if err != nil {
			return nil, nil, fmt.Errorf("numbers: %v", err)
		}
		if rg.Lo != "" {
			ranges = append(ranges, rg)
		} else {
			if strings.Trim(pfx, "0123456789") != "" {
				return nil, nil, fmt.Errorf("numbers: prefix %q is not digits", n)
			}
			prefixes = append(prefixes, pfx)
		}
	}
	return ranges, prefixes, nil
}

func (r Route) check() error {
	if _, _, err := r.routeNumbers(); err != nil {
		return err
	}
	if !strings.HasPrefix(r.To, "smpp://") && !strings.HasPrefix(r.To, "smpps://") {
		return fmt.Errorf("to: want smpp://USER:PASS@HOST:PORT or smpps://…, got %q", redactSpec(r.To))
	}
	if _, err := ParseUpstream(r.To); err != nil {
		return fmt.Errorf("to: %v", err)
	}
	if r.Binds < 0 || r.Binds > maxRouteBinds {
		return fmt.Errorf("binds: want 1 to %d", maxRouteBinds)
	}
	if r.Window < 0 || r.Window > maxRouteWindow {
		return fmt.Errorf("window: want 1 to %d", maxRouteWindow)
	}
	return nil
}

// validateRoutes checks every route, and that no two claim the very same
// numbers.
func validateRoutes(rs []Route) error {
	var errs []error
	claimed := map[string]int{}
	for i, r := range rs {
		if err := r.check(); err != nil {
			errs = append(errs, fmt.Errorf("serve: routes[%d]: %w", i, err))
			continue
		}
		for _, n := range r.Numbers {
			k := strings.TrimPrefix(strings.TrimSpace(n), "+")
			if j, dup := claimed[k]; dup {
				errs = append(errs, fmt.Errorf("serve: routes[%d]: %s is routes[%d]'s already", i, n, j))
			}
			claimed[k] = i
		}
	}
	return errors.Join(errs...)
}

// StartRoutes connects each route's upstream and routes its numbers there,
// after attached cards and before the fleet's plan and the bearers. An
// upstream not reachable yet is connected in the background (its messages
// wait, retried, meanwhile); a refused bind is an error. The returned
// Closer removes the routes and unbinds; on error whatever was started is
// stopped again. opts.ReceiptTimeout bounds the wait for each receipt.
func (c *Core) StartRoutes(ctx context.Context, routes []Route, opts BearerOptions) (io.Closer, error) {
	if c == nil || c.SMSC == nil || c.routes == nil {
		return nil, ErrNoSMSC
	}
	if err := validateRoutes(routes); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	started := &routeSet{}
	for i, r := range routes {
		cfg, _ := ParseUpstream(r.To) // checked by validateRoutes
		o := opts
		o.Binds, o.Window = max(r.Binds, 1), r.Window
		if o.Window == 0 {
			o.Window = DefaultRouteWindow
		}
		o.AlwaysReceipt, o.Background = true, true
		o.Logger = opts.Logger.With("route", i, "upstream", cfg.Addr)
		u, err := c.newUpstream(ctx, cfg, o)
		if err != nil {
			started.Close()
			return nil, fmt.Errorf("serve: routes[%d]: %w", i, err)
		}
		ranges, prefixes, _ := r.routeNumbers()
		started.ups = append(started.ups, u)
		c.routes.addRanged(u, ranges, prefixes)
		u.unroute = func() { c.routes.removeRanged(u) }
	}
	return started, nil
}

// routeSet is what StartRoutes started: closing it closes every route.
type routeSet struct {
	ups []*Upstream
}

func (s *routeSet) Close() error {
	var errs []error
	for _, u := range s.ups {
		errs = append(errs, u.Close())
	}
	return errors.Join(errs...)
}
