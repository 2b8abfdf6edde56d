package simtest

import (
	"github.com/simlab-dev/simlab/simulator/mobileconnect"
)

// Issuer is the Mobile Connect gateway's issuer URL
// (docs/mobile-connect.md); discovery is at Issuer() +
// "/.well-known/openid-configuration".
func (s *Server) Issuer() string {
	m := s.srv.MobileConnect()
	if m == nil {
		return ""
	}
	return m.Gateway.Issuer()
}

// Gateway returns the running Mobile Connect gateway (nil when disabled).
func (s *Server) Gateway() *mobileconnect.Gateway {
	m := s.srv.MobileConnect()
	if m == nil {
		return nil
	}
	return m.Gateway
}
