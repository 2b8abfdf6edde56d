package pdu

import "net/netip"

// Tracer is told of every PDU crossing the SMPP connections it is given to
// — smsc.Server's sessions, smsc/client's connections — for traces such as
// simulator/trace's pcap files. The server and the client share it, so one
// recorder serves both; either calls nothing when none is set.
type Tracer interface {
	// TraceConn starts the trace of one connection between an ESME and
	// an SMSC, before its first PDU. An address that is not known (an
	// in-memory pipe) is the zero AddrPort.
	TraceConn(esme, smsc netip.AddrPort) ConnTrace
}

// ConnTrace records the PDUs of one connection in the order they cross
// it. Its methods may be called from the connection's reader and writer
// goroutines at once.
type ConnTrace interface {
	// PDU records one whole PDU, header included, sent by the ESME when
	// toSMSC is set, else by the SMSC. b is only valid during the call.
	PDU(toSMSC bool, b []byte)
	// Close records the end of the connection.
	Close()
}

// EachPDU calls f with every whole PDU at the start of b (written output:
// PDUs back to back) and returns the octets after the last one.
func EachPDU(b []byte, f func(p []byte)) []byte {
	for len(b) >= HeaderLen {
		n := int(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
		if n < HeaderLen || n > len(b) {
			break
		}
		f(b[:n])
		b = b[n:]
	}
	return b
}
