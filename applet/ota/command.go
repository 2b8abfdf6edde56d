package ota

import (
	"context"
	"errors"
	"fmt"

	"github.com/simlab-dev/simlab/hsm"
)

// Offsets in a command packet counted from the first CPL byte (TS 102 225
// §5.1, TS 31.115 §4.2).
const (
	cmdCHLOff = 2  // CHL
	cmdSecOff = 10 // CNTR: the ciphered part starts here
	cmdCCOff  = 16 // RC/CC
	cmdMinCHL = 13 // SPI..PCNTR without RC/CC
	// MaxPacketLen is the largest CPL value (two bytes).
	MaxPacketLen = 0xFFFF
)

// CommandHeader is the part of a command packet header sent in clear
// (TS 102 225 §5.1.1): SPI, KIc, KID and TAR.
type CommandHeader struct {
	SPI SPI
	KIc KIc
	KID KID
	TAR TAR
}

// RawCommand is a command packet split into its fields without any
// cryptography, for inspection (TS 102 225 §5.1.1). Secured aliases the
// input: CNTR, PCNTR, RC/CC, data and padding, ciphered when
// Header.SPI.Ciphered.
type RawCommand struct {
	CPL     int
	CHL     int
	Header  CommandHeader
	Secured []byte
}

// ChecksumLen returns the length of the RC/CC field the CHL implies.
func (r *RawCommand) ChecksumLen() int { return r.CHL - cmdMinCHL }

// ParseCommand splits a command packet starting at CPL (the UDH already
// removed) into its clear fields. It checks CPL and CHL against the length
// of pkt; it does no cryptography.
func ParseCommand(pkt []byte) (RawCommand, error) {
	var r RawCommand
	if len(pkt) < cmdSecOff {
		return r, decodeErr(len(pkt), "command header", "need %d bytes (CPL..TAR), have %d", cmdSecOff, len(pkt))
	}
	r.CPL = int(pkt[0])<<8 | int(pkt[1])
	if r.CPL != len(pkt)-2 {
		return r, decodeErr(0, "CPL", "value %d does not match the %d bytes that follow it", r.CPL, len(pkt)-2)
	}
	r.CHL = int(pkt[cmdCHLOff])
	if r.CHL < cmdMinCHL {
		return r, decodeErr(cmdCHLOff, "CHL", "value %d is less than %d", r.CHL, cmdMinCHL)
	}
	if r.CHL > r.CPL-1 {
		return r, decodeErr(cmdCHLOff, "CHL", "value %d exceeds the %d bytes after it", r.CHL, r.CPL-1)
	}
	r.Header = parseCommandHeader(pkt)
	r.Secured = pkt[cmdSecOff:]
	return r, nil
}

func parseCommandHeader(pkt []byte) CommandHeader {
	return CommandHeader{
		SPI: ParseSPI(pkt[3], pkt[4]),
		KIc: KIc(pkt[5]),
		KID: KID(pkt[6]),
		TAR: TAR{pkt[7], pkt[8], pkt[9]},
	}
}

func appendCommandHeader(dst []byte, cpl, chl int, h *CommandHeader) []byte {
	s1, s2 := h.SPI.Bytes()
	return append(dst, byte(cpl>>8), byte(cpl), byte(chl), s1, s2, byte(h.KIc), byte(h.KID), h.TAR[0], h.TAR[1], h.TAR[2])
}

// SealCommand builds a secured command packet (TS 102 225 §5.1), server
// side: from CPL to the end, without the UDH. The RC/CC and ciphering
// follow h.SPI, with the algorithms of h.KIc and h.KID and the keys named
// by keys. Ciphered packets are padded with zeros to the block size and
// PCNTR counts the padding. DS integrity is not supported (ErrUnsupported).
func SealCommand(ctx context.Context, ks hsm.Keystore, keys Keys, h CommandHeader, cntr Counter, data []byte) ([]byte, error) {
	return AppendCommand(ctx, nil, ks, keys, h, cntr, data)
}

// AppendCommand is SealCommand appending the packet to dst.
func AppendCommand(ctx context.Context, dst []byte, ks hsm.Keystore, keys Keys, h CommandHeader, cntr Counter, data []byte) ([]byte, error) {
	sec, _, err := resolveSecurity(h.SPI.Integrity, h.SPI.Ciphered, h.KIc, h.KID, &keys)
	if err != nil {
		return nil, err
	}
	pad := sec.padLen(6 + sec.cl + len(data))
	chl := cmdMinCHL + sec.cl
	cpl := 1 + chl + len(data) + pad
	if cpl > MaxPacketLen {
		return nil, fmt.Errorf("%w: CPL would be %d", ErrTooLong, cpl)
	}
	start := len(dst)
	need := 2 + cpl + 8
	if cap(dst)-start < need {
		nd := make([]byte, start, start+need)
		copy(nd, dst)
		dst = nd
	}
	buf := appendCommandHeader(dst[start:], cpl, chl, &h)
	buf = append(buf, cntr[:]...)
	buf = append(buf, byte(pad))
	buf = append(buf, data...)
	buf = keys.Padding.append(buf, pad)
	buf, err = sec.seal(ctx, ks, buf, cmdCCOff, cmdSecOff)
	if err != nil {
		return nil, err
	}
	return dst[:start+len(buf)], nil
}

// Keyset is what the card knows about the keyset and application a command
// packet addresses: key references, the TAR's minimum security level and
// the counter the card has stored for the keyset.
type Keyset struct {
	Keys
	MSL     MSL
	Counter Counter
}

// Resolver gives the card side the keyset for a command packet, looked up
// by TAR and by the key indexes of KIc and KID. Its error decides the PoR
// status: one wrapping ErrTARUnknown gives 09 (no application has the
// TAR), ErrSecurityLevel gives 0A (e.g. the keyset may not address the
// TAR), a *StatusError its own status, anything else 06.
type Resolver interface {
	Resolve(tar TAR, kic KIc, kid KID) (Keyset, error)
}

// ResolverFunc adapts a function to a Resolver.
type ResolverFunc func(tar TAR, kic KIc, kid KID) (Keyset, error)

// Resolve calls f.
func (f ResolverFunc) Resolve(tar TAR, kic KIc, kid KID) (Keyset, error) { return f(tar, kic, kid) }

// Command is a command packet opened by the card (TS 102 225 §5.1.1).
type Command struct {
	CommandHeader
	Counter Counter // CNTR as received
	PCNTR   uint8   // number of padding bytes removed from the end of Data
	Data    []byte  // the secured data, padding removed; not aliased to the input
	// StoreCounter is true when the SPI's counter mode checks counters:
	// the card must then store Counter as the keyset's new counter value.
	StoreCounter bool
}

// OpenCommand opens a command packet on the card side (TS 102 225 §5.1):
// pkt starts at CPL (UDH removed). It parses the header, resolves the
// keyset, checks the TAR's minimum security level, deciphers, verifies the
// RC/CC in constant time and checks the counter against the keyset's stored
// counter per the SPI's counter mode, in that order.
//
// On failure the error is a *StatusError carrying the PoR status (StatusOf
// reads it). OpenCommand changes no state: storing the new counter after
// success (Command.StoreCounter) is the caller's job.
func OpenCommand(ctx context.Context, ks hsm.Keystore, r Resolver, pkt []byte) (Command, error) {
	var c Command
	raw, err := ParseCommand(pkt)
	if err != nil {
		return c, &StatusError{Status: StatusUndefinedSecurity, Err: err}
	}
	h := raw.Header
	fail := func(st Status, err error) (Command, error) {
		return Command{}, &StatusError{Status: st, Header: h, HeaderValid: true, Err: err}
	}
	ksInfo, err := r.Resolve(h.TAR, h.KIc, h.KID)
	if err != nil {
		var se *StatusError
		switch {
		case errors.As(err, &se):
			return fail(se.Status, err)
		case errors.Is(err, ErrTARUnknown):
			return fail(StatusTARUnknown, err)
		case errors.Is(err, ErrSecurityLevel):
			return fail(StatusInsufficientSecurity, err)
		}
		return fail(StatusUndefinedSecurity, err)
	}
	if !ksInfo.MSL.Allows(h.SPI) {
		return fail(StatusInsufficientSecurity, fmt.Errorf("%w: SPI1 %02x below MSL %02x", ErrSecurityLevel, func() byte { b, _ := h.SPI.Bytes(); return b }(), ksInfo.MSL.Byte()))
	}
	sec, st, err := resolveSecurity(h.SPI.Integrity, h.SPI.Ciphered, h.KIc, h.KID, &ksInfo.Keys)
	if err != nil {
		return fail(st, err)
	}
	if raw.ChecksumLen() != sec.cl {
		return fail(StatusUndefinedSecurity, decodeErr(cmdCHLOff, "CHL", "value %d, but %s %s needs %d", raw.CHL, h.SPI.Integrity, sec.integAlg, cmdMinCHL+sec.cl))
	}
	work := make([]byte, len(pkt), len(pkt)+8)
	copy(work, pkt)
	work, ok, err := sec.open(ctx, ks, work, cmdCCOff, cmdSecOff)
	if err != nil {
		if errors.Is(err, ErrCipher) {
			return fail(StatusCipheringError, err)
		}
		return fail(StatusUndefinedSecurity, err)
	}
	if !ok {
		return fail(StatusIntegrityFailed, fmt.Errorf("%w: %s mismatch", ErrIntegrity, h.SPI.Integrity))
	}
	copy(c.Counter[:], work[cmdSecOff:])
	c.PCNTR = work[cmdSecOff+5]
	data := work[cmdCCOff:]
	if int(c.PCNTR) > len(data) {
		st := StatusUndefinedSecurity
		if h.SPI.Ciphered {
			st = StatusCipheringError
		}
		return fail(st, decodeErr(cmdSecOff+5, "PCNTR", "%d padding bytes but only %d data bytes", c.PCNTR, len(data)))
	}
	if st, err := checkCounter(h.SPI.Counter, ksInfo.Counter, c.Counter); err != nil {
		return Command{}, &StatusError{Status: st, Header: h, HeaderValid: true, Counter: c.Counter, CounterValid: true, Err: err}
	}
	c.CommandHeader = h
	c.Data = data[:len(data)-int(c.PCNTR)]
	c.StoreCounter = h.SPI.Counter == CounterHigher || h.SPI.Counter == CounterOneHigher
	return c, nil
}

// checkCounter applies the SPI's counter mode (TS 102 225 §5.1.1) to the
// received counter against the card's stored one.
func checkCounter(m CounterMode, stored, got Counter) (Status, error) {
	if m != CounterHigher && m != CounterOneHigher {
		return StatusOK, nil
	}
	s, g := stored.Uint64(), got.Uint64()
	if s >= MaxCounter {
		return StatusCounterBlocked, fmt.Errorf("%w: stored counter reached its maximum", ErrCounterBlock)
	}
	if g <= s {
		return StatusCounterLow, fmt.Errorf("%w: received %s, stored %s", ErrCounterLow, got, stored)
	}
	if m == CounterOneHigher && g != s+1 {
		return StatusCounterHigh, fmt.Errorf("%w: received %s, expected exactly one above %s", ErrCounterHigh, got, stored)
	}
	return StatusOK, nil
}
