package trace

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// LinktypeRaw is LINKTYPE_RAW (101): each packet starts with an IPv4 or
// IPv6 header (tcpdump.org link-layer header types).
const LinktypeRaw = 101

// PCAP writes the classic libpcap file format (tcpdump.org pcap(5)):
// little-endian, version 2.4, microsecond timestamps.
type PCAP struct {
	w       io.Writer
	snaplen uint32
}

// NewPCAP writes the global header for linktype to w and returns a writer.
func NewPCAP(w io.Writer, linktype uint32) (*PCAP, error) {
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h[0:], 0xA1B2C3D4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	// thiszone and sigfigs stay 0
	binary.LittleEndian.PutUint32(h[16:], 262144)
	binary.LittleEndian.PutUint32(h[20:], linktype)
	if _, err := w.Write(h); err != nil {
		return nil, fmt.Errorf("trace: write pcap header: %w", err)
	}
	return &PCAP{w: w, snaplen: 262144}, nil
}

// WritePacket writes one packet record stamped ts.
func (p *PCAP) WritePacket(ts time.Time, data []byte) error {
	n := uint32(len(data))
	h := make([]byte, 16, 16+len(data))
	binary.LittleEndian.PutUint32(h[0:], uint32(ts.Unix()))
	binary.LittleEndian.PutUint32(h[4:], uint32(ts.Nanosecond()/1000))
	binary.LittleEndian.PutUint32(h[8:], min(n, p.snaplen))
	binary.LittleEndian.PutUint32(h[12:], n)
	if _, err := p.w.Write(append(h, data[:min(n, p.snaplen)]...)); err != nil {
		return fmt.Errorf("trace: write pcap record: %w", err)
	}
	return nil
}
