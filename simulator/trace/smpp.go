package trace

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/simlab-dev/simlab/smsc/pdu"
)

// SMPP in traces. The SMSC (smsc.Server.Tracer) and the SMPP client
// (client.Config.Tracer) hand a Recorder every PDU of every connection;
// each connection becomes one synthesised TCP stream (Stream) between the
// ESME's real IPv4 address and port and the SMSC's address on port 2775,
// where Wireshark's SMPP dissector looks whatever port the SMSC listens
// on (other addresses, IPv6 or a pipe, become 127.0.0.1 and a port from
// 40000). Live, the stream's packets go as VXLAN frames (RFC 7348): GSMTAP
// has no type for SMPP, and Wireshark decodes UDP port 4789 as VXLAN, then
// the Ethernet frame inside it, down to SMPP, with nothing to configure.

// VXLANPort is the IANA port of VXLAN (RFC 7348 §5).
const VXLANPort = 4789

// smppState is the SMPP side of a Recorder.
type smppState struct {
	liveTo  *net.UDPAddr // where VXLAN frames go; nil without Live
	onError func(error)
	failed  atomic.Bool
	scratch []byte // a record being built, under Recorder.mu
	file    *traceFile
}

// liveSMPPAddr resolves where live SMPP frames go: addr, or the host of
// the live GSMTAP address on VXLANPort.
func liveSMPPAddr(addr string, gsmtap *net.UDPAddr) (*net.UDPAddr, error) {
	if addr == "" {
		return &net.UDPAddr{IP: gsmtap.IP, Port: VXLANPort, Zone: gsmtap.Zone}, nil
	}
	to, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("trace: live SMPP to %s: %w", addr, err)
	}
	return to, nil
}

// Report hands a recording error (APDU's, from a hook that cannot return
// it) to Options.OnError, which is told of the first one only.
func (r *Recorder) Report(err error) {
	if r != nil {
		r.fail(err)
	}
}

// fail reports the first recording error that has no caller to go to.
func (r *Recorder) fail(err error) {
	if err != nil && r.smpp.onError != nil && r.smpp.failed.CompareAndSwap(false, true) {
		r.smpp.onError(fmt.Errorf("%w (further trace errors are not reported)", err))
	}
}

// TraceConn implements pdu.Tracer: it starts the stream of one SMPP
// connection. Recording errors go to Options.OnError.
func (r *Recorder) TraceConn(esme, smsc netip.AddrPort) pdu.ConnTrace {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	s := r.newStreamLocked()
	r.mu.Unlock()
	if a := esme.Addr().Unmap(); a.Is4() && esme.Port() != 0 && esme.Port() != SMPPPort {
		s.esme = netip.AddrPortFrom(a, esme.Port())
		s.cSeq, s.sSeq = initialSeqs(esme.Port())
	}
	if a := smsc.Addr().Unmap(); a.Is4() {
		s.smsc = netip.AddrPortFrom(a, SMPPPort)
	}
	return connTrace{s}
}

// connTrace is a Stream as a pdu.ConnTrace.
type connTrace struct{ s *Stream }

func (c connTrace) PDU(toSMSC bool, b []byte) {
	dir := FromSMSC
	if toSMSC {
		dir = ToSMSC
	}
	c.s.r.fail(c.s.PDU(time.Time{}, dir, b))
}

func (c connTrace) Close() { c.s.r.fail(c.s.Close(time.Time{})) }

// MaskSMPP returns p with the password of a bind or outbind PDU (SMPP 3.4
// §4.1, §4.1.7: system_id then password, C-octet strings) replaced by as
// many '*', so that a trace never holds it and still decodes; any other
// PDU, or one too short to hold a password, is returned as it is. p itself
// is never written: a masked PDU is a copy.
func MaskSMPP(p []byte) []byte {
	if len(p) < pdu.HeaderLen {
		return p
	}
	switch pdu.CommandID(binary.BigEndian.Uint32(p[4:])) {
	case pdu.CmdBindTransmitter, pdu.CmdBindReceiver, pdu.CmdBindTransceiver, pdu.CmdOutbind:
	default:
		return p
	}
	body := p[pdu.HeaderLen:]
	sys := indexNUL(body)
	if sys < 0 {
		return p
	}
	pw := body[sys+1:]
	end := indexNUL(pw)
	if end < 0 {
		end = len(pw) // unterminated: mask to the end all the same
	}
	if end == 0 {
		return p
	}
	out := append([]byte(nil), p...)
	at := pdu.HeaderLen + sys + 1
	for i := at; i < at+end; i++ {
		out[i] = '*'
	}
	return out
}

func indexNUL(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}

// Ethernet addresses of the live frames: locally administered, one per
// side.
var (
	macESME = [6]byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	macSMSC = [6]byte{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
)

// writeTCP records one TCP segment: a pcap record and/or a live VXLAN
// frame, built in one reused buffer (caller holds r.mu).
func (r *Recorder) writeTCP(ts time.Time, seg TCPSegment) error {
	r.ipID++
	const vxlanHdr = 8 + 14 // VXLAN header, Ethernet header
	b := r.smpp.scratch[:0]
	b = append(b, make([]byte, max(16, vxlanHdr))...) // room for either header
	start := len(b)
	b = appendIPv4TCP(b, seg, r.ipID)
	pkt := b[start:]
	var err error
	if r.pcap != nil {
		rec := b[start-16:]
		binary.LittleEndian.PutUint32(rec[0:], uint32(ts.Unix()))
		binary.LittleEndian.PutUint32(rec[4:], uint32(ts.Nanosecond()/1000))
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(pkt)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(pkt)))
		if _, werr := r.pcap.w.Write(rec); werr != nil {
			err = fmt.Errorf("trace: write pcap record: %w", werr)
		}
	}
	if r.live != nil && r.smpp.liveTo != nil {
		f := b[start-vxlanHdr:]
		// RFC 7348 §5: flags with I set, reserved, VNI 1, reserved.
		copy(f[0:8], []byte{0x08, 0, 0, 0, 0, 0, 1, 0})
		dst, src := macSMSC, macESME
		if seg.Src.Port() == SMPPPort {
			dst, src = macESME, macSMSC
		}
		copy(f[8:14], dst[:])
		copy(f[14:20], src[:])
		f[20], f[21] = 0x08, 0x00 // IPv4
		if _, lerr := r.live.WriteToUDP(f, r.smpp.liveTo); lerr != nil && err == nil {
			err = fmt.Errorf("trace: live SMPP: %w", lerr)
		}
	}
	r.smpp.scratch = b
	return err
}

// appendIPv4TCP appends the IPv4 packet holding s to dst, both checksums
// set: IPv4TCP without allocating.
func appendIPv4TCP(dst []byte, s TCPSegment, id uint16) []byte {
	start := len(dst)
	total := 40 + len(s.Payload)
	dst = append(dst, 0x45, 0, byte(total>>8), byte(total), byte(id>>8), byte(id), 0x40, 0, 64, protoTCP, 0, 0)
	src, dstIP := s.Src.Addr().As4(), s.Dst.Addr().As4()
	dst = append(dst, src[:]...)
	dst = append(dst, dstIP[:]...)
	ip := dst[start:]
	binary.BigEndian.PutUint16(ip[10:], checksum(ip[:20]))
	t := len(dst)
	dst = binary.BigEndian.AppendUint16(dst, s.Src.Port())
	dst = binary.BigEndian.AppendUint16(dst, s.Dst.Port())
	dst = binary.BigEndian.AppendUint32(dst, s.Seq)
	dst = binary.BigEndian.AppendUint32(dst, s.Ack)
	dst = append(dst, 5<<4, s.Flags, byte(s.Window>>8), byte(s.Window), 0, 0, 0, 0)
	dst = append(dst, s.Payload...)
	var ph [12]byte
	copy(ph[0:4], src[:])
	copy(ph[4:8], dstIP[:])
	ph[9] = protoTCP
	binary.BigEndian.PutUint16(ph[10:], uint16(len(dst)-t))
	binary.BigEndian.PutUint16(dst[t+16:], checksum(ph[:], dst[t:]))
	return dst
}
