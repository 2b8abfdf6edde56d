package simulator

import (
	"context"

	"github.com/simlab-dev/simlab/simulator/web"
)

func init() { subsystemStarters = append(subsystemStarters, startWeb) }

// webPage is the web page at / (simulator/web) as a subsystem of serve.
type webPage struct{}

func startWeb(s *Server, _ Config) (Subsystem, error) {
	if err := web.Mount(s.HandlePublic); err != nil { // the page asks for the token itself
		return nil, err
	}
	return webPage{}, nil
}

// Name implements Subsystem.
func (webPage) Name() string { return "web" }

// Ready implements Subsystem: the page is embedded, always ready.
func (webPage) Ready() bool { return true }

// Shutdown implements Subsystem.
func (webPage) Shutdown(context.Context) error { return nil }
