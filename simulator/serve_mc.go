package simulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/mobileconnect"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
)

func init() { subsystemStarters = append(subsystemStarters, startMobileConnect) }

// MobileConnect is the Mobile Connect gateway subsystem: the OpenID
// Connect provider at the issuer path (default /mc) on the HTTP listener,
// pushing its challenges through a push.Pusher bound over SMPP to this
// server's own SMSC.
type MobileConnect struct {
	Gateway *mobileconnect.Gateway
	pusher  *push.Pusher
	ready   atomic.Bool
}

// MobileConnect returns the running gateway subsystem, or nil.
func (s *Server) MobileConnect() *MobileConnect {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sub := range s.subs {
		if m, ok := sub.(*MobileConnect); ok {
			return m
		}
	}
	return nil
}

func startMobileConnect(s *Server, cfg Config) (Subsystem, error) {
	mc := cfg.MobileConnect
	core := s.Core()
	if mc.Disabled || s.httpLn == nil {
		return nil, nil
	}
	if cfg.NoFleet {
		// No phone to answer a login, and no router to find a card or
		// bearer for one: the gateway would only hold two SMPP binds.
		cfg.Logger.Info("mobile connect gateway off: --no-fleet runs no phones to answer a login")
		return nil, nil
	}
	if core == nil || s.smppLn == nil {
		cfg.Logger.Warn("mobile connect gateway off: it needs the SMPP listener to reach the phones")
		return nil, nil
	}
	if len(cfg.Accounts) > 0 && mc.SMPPSystemID == "" {
		cfg.Logger.Warn("mobile connect gateway off: the SMSC requires accounts; set mobile_connect.smpp_system_id and smpp_password")
		return nil, nil
	}
	// The issuer follows the HTTP listener's scheme (Config.HTTPS).
	scheme := "http"
	if cfg.HTTPS.On() {
		scheme = "https"
	}
	issuer := scheme + "://" + dialAddr(s.httpLn.Addr()) + mobileconnect.DefaultPath
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	src := mc.WithDefaults().Source
	p, err := push.New(ctx, push.Config{
		// The bind's address_range claims the gateway's source address, so
		// the SMSC hands the phones' answers to these binds and no other
		// client's (SMPP 3.4 §5.2.7).
		SMPP: client.Config{Addr: dialAddr(s.smppLn.Addr()), SystemID: orDefault(mc.SMPPSystemID, "simlab-mc"),
			Password: mc.SMPPPassword, Window: 50, AddressRange: src},
		Binds:  2,
		Source: src,
	})
	if err != nil {
		return nil, fmt.Errorf("serve: mobile connect: bind to the SMSC: %w", err)
	}
	fl := core.Fleet
	dir := mobileconnect.DirectoryFunc(func(ctx context.Context, msisdn string) (mobileconnect.Subscriber, error) {
		n, err := fleet.Normalize(msisdn)
		if err != nil {
			return mobileconnect.Subscriber{}, nil
		}
		ph, err := fl.Phone(ctx, n)
		if errors.Is(err, fleet.ErrNotInPlan) {
			// A real card attached to a number, or a bearer's number:
			// reachable, with the applet assumed.
			known := core.routes.Route(routeProbe(n)) != nil
			return mobileconnect.Subscriber{MSISDN: n, Known: known, Applet: known}, nil
		}
		if err != nil {
			return mobileconnect.Subscriber{}, err
		}
		return mobileconnect.Subscriber{MSISDN: n, Known: true, Applet: !ph.Settings().NoNFC}, nil
	})
	gw, err := mobileconnect.New(ctx, mc, issuer, mobileconnect.Deps{Challenger: p, Directory: dir, Logger: cfg.Logger,
		OnLogin: core.Live.onLogin})
	if err != nil {
		_ = p.Close(context.Background())
		return nil, err
	}
	core.Live.pcr = gw.PCR // before the gateway serves: no login reports yet
	gw.Register(publicMux{s}, s.Mux())
	s.Mux().Handle("GET /api/v1/mc/logins", core.loginsHandler(gw))
	cfg.Logger.Info("mobile connect gateway", "issuer", gw.Issuer())
	m := &MobileConnect{Gateway: gw, pusher: p}
	m.ready.Store(true)
	return m, nil
}

// Name implements Subsystem.
func (m *MobileConnect) Name() string { return "mobile-connect" }

// Ready implements Subsystem.
func (m *MobileConnect) Ready() bool { return m.ready.Load() }

// Shutdown implements Subsystem.
func (m *MobileConnect) Shutdown(ctx context.Context) error {
	m.ready.Store(false)
	err := m.Gateway.Close()
	return errors.Join(err, m.pusher.Close(ctx))
}

// dialAddr is a listener's address as a client on this machine dials it:
// an unspecified host (every interface) becomes loopback.
func dialAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// publicMux mounts handlers with Server.HandlePublic: reachable without the
// API token and exempt from the cross-origin check (an RP's form posts to
// /authorize from its own site).
type publicMux struct{ s *Server }

func (m publicMux) Handle(pattern string, h http.Handler) { m.s.HandlePublic(pattern, h) }

// routeProbe is a message to ask the router whether a number is reachable.
func routeProbe(msisdn string) *smsc.Message {
	return &smsc.Message{Dest: smsc.Address{TON: 1, NPI: 1, Addr: msisdn}}
}
