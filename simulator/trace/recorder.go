package trace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/simlab-dev/simlab/applet"
	"github.com/simlab-dev/simlab/applet/apdu"
)

// Direction says which way an SMPP PDU travels.
type Direction int

// Directions of SMPP PDUs.
const (
	ToSMSC   Direction = iota // ESME → SMSC: submit_sm, bind, deliver_sm_resp …
	FromSMSC                  // SMSC → ESME: submit_sm_resp, deliver_sm …
)

// maxUDPPayload is the largest UDP payload in one IPv4 packet.
const maxUDPPayload = 65535 - 20 - 8

// SMPPPort is the IANA port of SMPP, where Wireshark's SMPP dissector looks.
const SMPPPort = 2775

// Addresses used in synthesised packets (TEST-NET-1 would confuse nobody
// either, but loopback matches what simlab serves by default).
var (
	cardAddr = netip.MustParseAddrPort("127.0.0.1:50000") // GSMTAP source
	tapAddr  = netip.MustParseAddrPort("127.0.0.1:4729")  // GSMTAP destination
	smscAddr = netip.MustParseAddrPort("127.0.0.1:2775")
)

// Options configures a Recorder. At least one of PCAP and Live is needed.
type Options struct {
	// PCAP, when set, receives a pcap file (LINKTYPE_RAW) of every APDU
	// (GSMTAP SIM over UDP) and every SMPP PDU (over synthesised TCP).
	PCAP io.Writer
	// Live, when set (e.g. "127.0.0.1:4729"), receives each APDU exchange
	// as a GSMTAP datagram, for Wireshark capturing on the loopback.
	Live string
	// Now stamps records given a zero time; time.Now when nil.
	Now func() time.Time
	// LiveSMPP, with Live, is where SMPP PDUs go live, as VXLAN frames
	// (GSMTAP has no type for them, smpp.go); "" means Live's host, UDP
	// port VXLANPort.
	LiveSMPP string
	// OnError is told of the first failure to record what has no caller
	// to return it to (the PDUs of TraceConn's connections).
	OnError func(error)
}

// Recorder records APDU exchanges and SMPP PDUs. Its methods are safe for
// concurrent use. It is the API the card terminal, the handset and the SMSC
// call; a nil *Recorder records nothing.
type Recorder struct {
	mu       sync.Mutex
	now      func() time.Time
	pcap     *PCAP
	live     *net.UDPConn
	liveTo   *net.UDPAddr
	ipID     uint16
	nextPort uint16
	def      *Stream
	// smpp holds the SMPP side's state (smpp.go, file.go).
	smpp smppState
}

// New returns a Recorder writing where o says.
func New(o Options) (*Recorder, error) {
	if o.PCAP == nil && o.Live == "" {
		return nil, errors.New("trace: Options needs PCAP or Live")
	}
	r := &Recorder{now: o.Now, nextPort: 40000}
	if r.now == nil {
		r.now = time.Now
	}
	if o.PCAP != nil {
		p, err := NewPCAP(o.PCAP, LinktypeRaw)
		if err != nil {
			return nil, err
		}
		r.pcap = p
	}
	if o.Live != "" {
		// An unconnected socket: nothing needs to listen on the port
		// (Wireshark captures the loopback), and ICMP port-unreachable
		// answers must not turn into write errors.
		to, err := net.ResolveUDPAddr("udp", o.Live)
		if err != nil {
			return nil, fmt.Errorf("trace: live GSMTAP to %s: %w", o.Live, err)
		}
		c, err := net.ListenUDP("udp", nil)
		if err != nil {
			return nil, fmt.Errorf("trace: live GSMTAP socket: %w", err)
		}
		r.live, r.liveTo = c, to
		if r.smpp.liveTo, err = liveSMPPAddr(o.LiveSMPP, to); err != nil {
			c.Close()
			return nil, err
		}
	}
	r.smpp.onError = o.OnError
	return r, nil
}

func (r *Recorder) stamp(ts time.Time) time.Time {
	if ts.IsZero() {
		return r.now()
	}
	return ts
}

// writeIP writes one IPv4 packet built by build (given the next IP id).
func (r *Recorder) writeIP(ts time.Time, build func(id uint16) []byte) error {
	if r.pcap == nil {
		return nil
	}
	r.ipID++
	return r.pcap.WritePacket(ts, build(r.ipID))
}

// APDU records one command/response exchange as a GSMTAP SIM frame
// (SIMFrame); ts zero means now. PIN material is masked first
// (apdu.MaskSecrets: the data of VERIFY and the other PIN commands, a
// hidden GET INPUT answer), so a capture never holds a PIN; the frame
// keeps its length and still decodes.
func (r *Recorder) APDU(ts time.Time, capdu, rapdu []byte) error {
	if r == nil {
		return nil
	}
	payload := AppendGSMTAP(nil, GSMTAPHeader{Version: GSMTAPVersion, HdrLenWords: gsmtapHdrLen / 4, Type: GSMTAPTypeSIM})
	payload = append(payload, SIMFrame(apdu.MaskSecrets(capdu), rapdu)...)
	if len(payload) > maxUDPPayload {
		return fmt.Errorf("trace: APDU exchange of %d bytes does not fit one GSMTAP datagram (%d at most)", len(payload), maxUDPPayload)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ts = r.stamp(ts)
	err := r.writeIP(ts, func(id uint16) []byte { return IPv4UDP(cardAddr, tapAddr, id, payload) })
	if r.live != nil {
		if _, lerr := r.live.WriteToUDP(payload, r.liveTo); lerr != nil && err == nil {
			err = fmt.Errorf("trace: live GSMTAP: %w", lerr)
		}
	}
	return err
}

// SMPP records pdu on the recorder's default SMPP connection (an ESME on
// 127.0.0.1:40000 bound to 127.0.0.1:2775); ts zero means now.
func (r *Recorder) SMPP(ts time.Time, dir Direction, pdu []byte) error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	if r.def == nil {
		r.def = r.newStreamLocked()
	}
	s := r.def
	r.mu.Unlock()
	return s.PDU(ts, dir, pdu)
}

// Stream is one synthesised SMPP TCP connection between an ESME and the
// SMSC. Its first PDU is preceded by a three-way handshake; sequence and
// acknowledgement numbers follow the bytes sent so Wireshark reassembles
// PDUs that span segments.
type Stream struct {
	r          *Recorder
	esme, smsc netip.AddrPort
	open       bool
	closed     bool
	cSeq, sSeq uint32 // next sequence number of each side
}

// SMPPStream starts a new connection from the next ESME port.
func (r *Recorder) SMPPStream() *Stream {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.newStreamLocked()
}

func (r *Recorder) newStreamLocked() *Stream {
	port := r.nextPort
	r.nextPort++
	s := &Stream{
		r:    r,
		esme: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port),
		smsc: smscAddr,
	}
	s.cSeq, s.sSeq = initialSeqs(port)
	return s
}

// initialSeqs are the initial sequence numbers of the ESME and the SMSC
// on a stream from port: fixed, so that traces are reproducible.
func initialSeqs(port uint16) (esme, smsc uint32) {
	return 1_000_000 + uint32(port)*16, 2_000_000 + uint32(port)*16
}

func (s *Stream) segment(ts time.Time, fromESME bool, flags byte, payload []byte) error {
	seg := TCPSegment{Src: s.esme, Dst: s.smsc, Seq: s.cSeq, Ack: s.sSeq, Flags: flags, Window: 65535, Payload: payload}
	if !fromESME {
		seg = TCPSegment{Src: s.smsc, Dst: s.esme, Seq: s.sSeq, Ack: s.cSeq, Flags: flags, Window: 65535, Payload: payload}
	}
	if flags&TCPAck == 0 {
		seg.Ack = 0
	}
	return s.r.writeTCP(ts, seg)
}

// PDU records one SMPP PDU (the whole PDU, header included); ts zero
// means now. A bind's or outbind's password is masked (MaskSMPP).
func (s *Stream) PDU(ts time.Time, dir Direction, pdu []byte) error {
	if s == nil {
		return nil
	}
	pdu = MaskSMPP(pdu)
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.closed {
		return errors.New("trace: SMPP stream closed")
	}
	ts = s.r.stamp(ts)
	if !s.open {
		if err := s.segment(ts, true, TCPSyn, nil); err != nil {
			return err
		}
		s.cSeq++
		if err := s.segment(ts, false, TCPSyn|TCPAck, nil); err != nil {
			return err
		}
		s.sSeq++
		if err := s.segment(ts, true, TCPAck, nil); err != nil {
			return err
		}
		s.open = true
	}
	fromESME := dir == ToSMSC
	// Split at the Ethernet MSS like a real stack, so a large PDU spans
	// segments that Wireshark reassembles.
	for rest := pdu; len(rest) > 0 || len(pdu) == 0; {
		n := min(len(rest), mss)
		flags := byte(TCPAck)
		if n == len(rest) {
			flags |= TCPPsh
		}
		if err := s.segment(ts, fromESME, flags, rest[:n]); err != nil {
			return err
		}
		if fromESME {
			s.cSeq += uint32(n)
		} else {
			s.sSeq += uint32(n)
		}
		rest = rest[n:]
		if len(pdu) == 0 {
			break
		}
	}
	return nil
}

// mss is the TCP maximum segment size of the synthesised connections
// (Ethernet MTU 1500 - 20 IPv4 - 20 TCP).
const mss = 1460

// Close records the ESME closing the connection (FIN, FIN-ACK, ACK).
func (s *Stream) Close(ts time.Time) error {
	if s == nil {
		return nil
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if !s.open || s.closed {
		s.closed = true
		return nil
	}
	s.closed = true
	ts = s.r.stamp(ts)
	if err := s.segment(ts, true, TCPFin|TCPAck, nil); err != nil {
		return err
	}
	s.cSeq++
	if err := s.segment(ts, false, TCPFin|TCPAck, nil); err != nil {
		return err
	}
	s.sSeq++
	return s.segment(ts, true, TCPAck, nil)
}

// Close closes the live socket, and the file of a Recorder made by Create
// (flushed first). It does not close a PCAP writer given in Options,
// which belongs to the caller.
func (r *Recorder) Close() error {
	if r == nil {
		return nil
	}
	err := r.closeFile()
	if r.live != nil {
		err = errors.Join(err, r.live.Close())
	}
	return err
}

// Card wraps an applet.Card and records every exchange it carries. A
// failure to record never fails the exchange: it goes to OnError, if set.
type Card struct {
	applet.Card
	Rec     *Recorder
	OnError func(error)
}

// Transmit forwards to the wrapped card and records the exchange.
func (c Card) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	r, err := c.Card.Transmit(ctx, capdu)
	if err == nil {
		if rerr := c.Rec.APDU(time.Time{}, capdu, r); rerr != nil && c.OnError != nil {
			c.OnError(rerr)
		}
	}
	return r, err
}
