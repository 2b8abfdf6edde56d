package smsc

import (
	"net"
	"net/netip"

	"github.com/simlab-dev/simlab/smsc/pdu"
)

// Server.Tracer sees every PDU of every session (docs/lab.md, "Traces"):
// the reader hands it each PDU it reads, the writer each PDU just before
// the write that sends it, so requests precede their responses in the
// trace. Without a Tracer a session pays one nil check per PDU read and
// per write.

// openTrace starts s's trace, if the server has a Tracer.
func (s *session) openTrace() {
	if t := s.srv.Tracer; t != nil {
		s.tr = t.TraceConn(addrPort(s.conn.RemoteAddr()), addrPort(s.conn.LocalAddr()))
	}
}

// traceOut hands the PDUs of a buffer about to be written to the trace.
func (s *session) traceOut(buf []byte) {
	pdu.EachPDU(buf, func(p []byte) { s.tr.PDU(false, p) })
}

// addrPort returns a connection's TCP address, or the zero AddrPort for
// one that has none (a pipe).
func addrPort(a net.Addr) netip.AddrPort {
	switch v := a.(type) {
	case *net.TCPAddr:
		return v.AddrPort()
	case nil:
		return netip.AddrPort{}
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}
