// Package trace writes what simlab's cards and SMSC exchange in forms
// Wireshark reads: a classic pcap file of raw IPv4 packets holding GSMTAP
// SIM frames (one per APDU exchange, UDP port 4729) and synthesised TCP
// streams of SMPP PDUs (port 2775), or GSMTAP datagrams sent live to
// 127.0.0.1:4729 for a running Wireshark. Recorder is the small API the
// handset, the card terminal and the SMSC call.
package trace

import (
	"encoding/binary"
	"net/netip"
)

// IP protocol numbers (IANA).
const (
	protoTCP = 6
	protoUDP = 17
)

// TCP flags (RFC 9293 §3.1).
const (
	TCPFin = 0x01
	TCPSyn = 0x02
	TCPRst = 0x04
	TCPPsh = 0x08
	TCPAck = 0x10
)

// checksum is the Internet checksum (RFC 1071) over the concatenation of
// parts, each of even length except possibly the last.
func checksum(parts ...[]byte) uint16 {
	var sum uint32
	var odd bool
	var carry byte
	for _, p := range parts {
		for _, b := range p {
			if odd {
				sum += uint32(carry)<<8 | uint32(b)
			} else {
				carry = b
			}
			odd = !odd
		}
	}
	if odd {
		sum += uint32(carry) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xFFFF + sum>>16
	}
	return ^uint16(sum)
}

// ipv4 builds an IPv4 header (RFC 791) followed by payload, with the
// header checksum filled in and Don't Fragment set.
func ipv4(src, dst netip.Addr, proto byte, id uint16, payload []byte) []byte {
	total := 20 + len(payload)
	p := make([]byte, 20, total)
	p[0] = 0x45 // version 4, IHL 5
	binary.BigEndian.PutUint16(p[2:], uint16(total))
	binary.BigEndian.PutUint16(p[4:], id)
	binary.BigEndian.PutUint16(p[6:], 0x4000) // DF
	p[8] = 64                                 // TTL
	p[9] = proto
	s, d := src.As4(), dst.As4()
	copy(p[12:16], s[:])
	copy(p[16:20], d[:])
	binary.BigEndian.PutUint16(p[10:], checksum(p[:20]))
	return append(p, payload...)
}

// pseudoHeader is the IPv4 pseudo header of the TCP and UDP checksums.
func pseudoHeader(src, dst netip.Addr, proto byte, length int) []byte {
	ph := make([]byte, 12)
	s, d := src.As4(), dst.As4()
	copy(ph[0:4], s[:])
	copy(ph[4:8], d[:])
	ph[9] = proto
	binary.BigEndian.PutUint16(ph[10:], uint16(length))
	return ph
}

// IPv4UDP returns an IPv4 packet holding a UDP datagram (RFC 768) from src
// to dst with payload, both checksums set. src and dst must be IPv4.
func IPv4UDP(src, dst netip.AddrPort, id uint16, payload []byte) []byte {
	u := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(u[0:], src.Port())
	binary.BigEndian.PutUint16(u[2:], dst.Port())
	binary.BigEndian.PutUint16(u[4:], uint16(8+len(payload)))
	u = append(u, payload...)
	c := checksum(pseudoHeader(src.Addr(), dst.Addr(), protoUDP, len(u)), u)
	if c == 0 {
		c = 0xFFFF // RFC 768: a computed zero is sent as all ones
	}
	binary.BigEndian.PutUint16(u[6:], c)
	return ipv4(src.Addr(), dst.Addr(), protoUDP, id, u)
}

// TCPSegment is one TCP segment (RFC 9293 §3.1) without options.
type TCPSegment struct {
	Src, Dst netip.AddrPort
	Seq, Ack uint32
	Flags    byte
	Window   uint16
	Payload  []byte
}

// IPv4TCP returns an IPv4 packet holding s, both checksums set.
func IPv4TCP(s TCPSegment, id uint16) []byte {
	return appendIPv4TCP(make([]byte, 0, 40+len(s.Payload)), s, id)
}
