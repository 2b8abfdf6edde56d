package ota

import (
	"context"
	"fmt"

	"github.com/simlab-dev/simlab/hsm"
)

// Offsets in a response packet after its UDH (TS 102 225 §5.2, TS 31.115
// §4.4): RPL(2) RHL(1) TAR(3) CNTR(5) PCNTR(1) STS(1) RC/CC.
const (
	rspRHLOff = 2
	rspTAROff = 3
	rspSecOff = 6  // CNTR: the ciphered part starts here
	rspCCOff  = 13 // RC/CC
	rspMinRHL = 10 // TAR..STS without RC/CC
)

// responseUDH is the user data header of a single-SMS response packet:
// UDHL 02, IEI 71 (Response Packet Identifier) with length 0, TS 31.115 §4.4.
var responseUDH = [3]byte{0x02, 0x71, 0x00}

// Response is a response packet (Proof of Receipt, TS 102 225 §5.2).
type Response struct {
	TAR     TAR
	Counter Counter // CNTR, the same as the command packet's
	PCNTR   uint8   // number of padding bytes (set by OpenResponse)
	Status  Status  // response status code
	Data    []byte  // additional response data, padding removed
}

// RawResponse is a response packet split into its fields without any
// cryptography, for inspection. UDH and Secured alias the input; Secured
// (CNTR, PCNTR, STS, RC/CC, data, padding) is ciphered when the command's
// SPI2 asked for it.
type RawResponse struct {
	UDH     []byte // UDHL and the information elements
	RPL     int
	RHL     int
	TAR     TAR
	Secured []byte
}

// ChecksumLen returns the length of the RC/CC field the RHL implies.
func (r *RawResponse) ChecksumLen() int { return r.RHL - rspMinRHL }

// ParseResponse splits a response packet that starts with its user data
// header (containing IEI 71, e.g. 02 71 00) into its clear fields. It
// checks RPL and RHL against the length of pkt; it does no cryptography.
func ParseResponse(pkt []byte) (RawResponse, error) {
	var r RawResponse
	u, _, err := ParseUDH(pkt)
	if err != nil {
		return r, err
	}
	if !u.ResponsePacket {
		return r, decodeErr(0, "UDH", "no response packet identifier (IEI 71)")
	}
	n := 1 + int(pkt[0])
	r.UDH = pkt[:n]
	p := pkt[n:]
	if len(p) < rspSecOff {
		return r, decodeErr(len(pkt), "response header", "need %d bytes (RPL..TAR) after the UDH, have %d", rspSecOff, len(p))
	}
	r.RPL = int(p[0])<<8 | int(p[1])
	if r.RPL != len(p)-2 {
		return r, decodeErr(n, "RPL", "value %d does not match the %d bytes that follow it", r.RPL, len(p)-2)
	}
	r.RHL = int(p[rspRHLOff])
	if r.RHL < rspMinRHL {
		return r, decodeErr(n+rspRHLOff, "RHL", "value %d is less than %d", r.RHL, rspMinRHL)
	}
	if r.RHL > r.RPL-1 {
		return r, decodeErr(n+rspRHLOff, "RHL", "value %d exceeds the %d bytes after it", r.RHL, r.RPL-1)
	}
	copy(r.TAR[:], p[rspTAROff:])
	r.Secured = p[rspSecOff:]
	return r, nil
}

// SealResponse builds a response packet (PoR, TS 102 225 §5.2) on the card
// side, starting with the UDH 02 71 00. h is the header of the command
// being answered: its TAR, its KIc/KID algorithms and its SPI2 (PoR RC/CC,
// PoR ciphering) decide the protection, with the keys named by keys. The
// CC covers the UDH (as pySim and onomondo-uicc compute it).
func SealResponse(ctx context.Context, ks hsm.Keystore, keys Keys, h CommandHeader, cntr Counter, st Status, data []byte) ([]byte, error) {
	return AppendResponse(ctx, nil, ks, keys, h, cntr, st, data)
}

// AppendResponse is SealResponse appending the packet to dst.
func AppendResponse(ctx context.Context, dst []byte, ks hsm.Keystore, keys Keys, h CommandHeader, cntr Counter, st Status, data []byte) ([]byte, error) {
	sec, _, err := resolveSecurity(h.SPI.PoRIntegrity, h.SPI.PoRCiphered, h.KIc, h.KID, &keys)
	if err != nil {
		return nil, err
	}
	pad := sec.padLen(7 + sec.cl + len(data))
	rhl := rspMinRHL + sec.cl
	rpl := 1 + rhl + len(data) + pad
	if rpl > MaxPacketLen {
		return nil, fmt.Errorf("%w: RPL would be %d", ErrTooLong, rpl)
	}
	start := len(dst)
	need := 3 + 2 + rpl + 8
	if cap(dst)-start < need {
		nd := make([]byte, start, start+need)
		copy(nd, dst)
		dst = nd
	}
	buf := append(dst[start:], responseUDH[:]...)
	buf = append(buf, byte(rpl>>8), byte(rpl), byte(rhl), h.TAR[0], h.TAR[1], h.TAR[2])
	buf = append(buf, cntr[:]...)
	buf = append(buf, byte(pad), byte(st))
	buf = append(buf, data...)
	buf = keys.Padding.append(buf, pad)
	u := len(responseUDH)
	buf, err = sec.seal(ctx, ks, buf, u+rspCCOff, u+rspSecOff)
	if err != nil {
		return nil, err
	}
	return dst[:start+len(buf)], nil
}

// OpenResponse checks and deciphers a response packet on the server side.
// pkt starts with the packet's UDH (02 71 00); h is the header of the
// command it answers (SPI2, KIc, KID). When the RC/CC does not match,
// OpenResponse returns the decoded response together with an error
// wrapping ErrIntegrity, so the caller can show what arrived; treat its
// contents as untrusted.
func OpenResponse(ctx context.Context, ks hsm.Keystore, keys Keys, h CommandHeader, pkt []byte) (Response, error) {
	var r Response
	raw, err := ParseResponse(pkt)
	if err != nil {
		return r, err
	}
	sec, _, err := resolveSecurity(h.SPI.PoRIntegrity, h.SPI.PoRCiphered, h.KIc, h.KID, &keys)
	if err != nil {
		return r, err
	}
	u := len(raw.UDH)
	if raw.ChecksumLen() != sec.cl {
		return r, decodeErr(u+rspRHLOff, "RHL", "value %d, but PoR %s %s needs %d", raw.RHL, h.SPI.PoRIntegrity, sec.integAlg, rspMinRHL+sec.cl)
	}
	work := make([]byte, len(pkt), len(pkt)+8)
	copy(work, pkt)
	work, ok, err := sec.open(ctx, ks, work, u+rspCCOff, u+rspSecOff)
	if err != nil {
		return r, err
	}
	r.TAR = raw.TAR
	copy(r.Counter[:], work[u+rspSecOff:])
	r.PCNTR = work[u+rspSecOff+5]
	r.Status = Status(work[u+rspSecOff+6])
	data := work[u+rspCCOff:]
	if int(r.PCNTR) > len(data) {
		if !ok { // PCNTR is covered by the RC/CC: a corrupted packet is an integrity failure
			r.Data = data
			return r, fmt.Errorf("%w: PoR %s mismatch", ErrIntegrity, h.SPI.PoRIntegrity)
		}
		return r, decodeErr(u+rspSecOff+5, "PCNTR", "%d padding bytes but only %d data bytes", r.PCNTR, len(data))
	}
	r.Data = data[:len(data)-int(r.PCNTR)]
	if !ok {
		return r, fmt.Errorf("%w: PoR %s mismatch", ErrIntegrity, h.SPI.PoRIntegrity)
	}
	return r, nil
}
