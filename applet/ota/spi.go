package ota

import (
	"fmt"
)

// Integrity is the kind of integrity check applied to a packet: SPI1 b2b1
// for the command, SPI2 b4b3 for the response (TS 102 225 §5.1.1).
type Integrity uint8

// Integrity values (TS 102 225 §5.1.1).
const (
	IntegrityNone Integrity = 0 // no RC, CC or DS
	IntegrityRC   Integrity = 1 // Redundancy Check (CRC16/CRC32, §5.1.2)
	IntegrityCC   Integrity = 2 // Cryptographic Checksum (§5.1.3)
	IntegrityDS   Integrity = 3 // Digital Signature (not supported by simlab)
)

var integrityNames = [...]string{"none", "rc", "cc", "ds"}

// String returns "none", "rc", "cc" or "ds".
func (i Integrity) String() string {
	if int(i) < len(integrityNames) {
		return integrityNames[i]
	}
	return fmt.Sprintf("integrity(%d)", uint8(i))
}

// CounterMode is SPI1 b5b4: whether the packet carries a counter and how the
// receiver checks it (TS 102 225 §5.1.1).
type CounterMode uint8

// Counter modes (TS 102 225 §5.1.1).
const (
	CounterNone      CounterMode = 0 // no counter
	CounterNoCheck   CounterMode = 1 // counter available, no replay or sequence checking
	CounterHigher    CounterMode = 2 // counter must be higher than the card's
	CounterOneHigher CounterMode = 3 // counter must be exactly one higher than the card's
)

var counterModeNames = [...]string{"none", "available-no-check", "must-be-higher", "must-be-one-higher"}

// String returns the mode's name, e.g. "must-be-higher".
func (m CounterMode) String() string {
	if int(m) < len(counterModeNames) {
		return counterModeNames[m]
	}
	return fmt.Sprintf("counter(%d)", uint8(m))
}

// PoRMode is SPI2 b2b1: whether the receiver sends a Proof of Receipt
// (TS 102 225 §5.1.1).
type PoRMode uint8

// PoR modes (TS 102 225 §5.1.1).
const (
	PoRNone     PoRMode = 0 // no PoR
	PoRRequired PoRMode = 1 // PoR required
	PoROnError  PoRMode = 2 // PoR required only when an error occurred
	PoRReserved PoRMode = 3 // reserved for future use
)

var porModeNames = [...]string{"none", "required", "on-error", "reserved"}

// String returns "none", "required", "on-error" or "reserved".
func (m PoRMode) String() string {
	if int(m) < len(porModeNames) {
		return porModeNames[m]
	}
	return fmt.Sprintf("por(%d)", uint8(m))
}

// SPI is the two-byte Security Parameter Indicator of a command packet
// (TS 102 225 §5.1.1): SPI1 describes the command packet's own security,
// SPI2 the security of the response (PoR). Reserved bits are kept so that
// parsing and marshalling round-trip exactly.
type SPI struct {
	Integrity Integrity   // SPI1 b2b1
	Ciphered  bool        // SPI1 b3: the command packet is ciphered
	Counter   CounterMode // SPI1 b5b4

	PoR          PoRMode   // SPI2 b2b1
	PoRIntegrity Integrity // SPI2 b4b3
	PoRCiphered  bool      // SPI2 b5: the response packet is ciphered
	// PoRSubmit is SPI2 b6: true sends the PoR in an SMS-SUBMIT, false in
	// the SMS-DELIVER-REPORT (TS 31.115 §4.4).
	PoRSubmit bool

	Reserved1 uint8 // SPI1 b8b7b6, as received (shifted down to bits 2..0)
	Reserved2 uint8 // SPI2 b8b7, as received (shifted down to bits 1..0)
}

// ParseSPI decodes the two SPI bytes (TS 102 225 §5.1.1).
func ParseSPI(spi1, spi2 byte) SPI {
	return SPI{
		Integrity:    Integrity(spi1 & 0x03),
		Ciphered:     spi1&0x04 != 0,
		Counter:      CounterMode(spi1 >> 3 & 0x03),
		Reserved1:    spi1 >> 5,
		PoR:          PoRMode(spi2 & 0x03),
		PoRIntegrity: Integrity(spi2 >> 2 & 0x03),
		PoRCiphered:  spi2&0x10 != 0,
		PoRSubmit:    spi2&0x20 != 0,
		Reserved2:    spi2 >> 6,
	}
}

// Bytes encodes the SPI as its two bytes, SPI1 first.
func (s SPI) Bytes() (spi1, spi2 byte) {
	spi1 = byte(s.Integrity&3) | byte(s.Counter&3)<<3 | (s.Reserved1&7)<<5
	if s.Ciphered {
		spi1 |= 0x04
	}
	spi2 = byte(s.PoR&3) | byte(s.PoRIntegrity&3)<<2 | (s.Reserved2&3)<<6
	if s.PoRCiphered {
		spi2 |= 0x10
	}
	if s.PoRSubmit {
		spi2 |= 0x20
	}
	return spi1, spi2
}

// Uint16 returns the SPI as SPI1<<8 | SPI2.
func (s SPI) Uint16() uint16 {
	a, b := s.Bytes()
	return uint16(a)<<8 | uint16(b)
}

// String renders the SPI with names, e.g.
// "cc,ciphered,counter=none;por=required,por-cc,por-ciphered,por-via=deliver-report".
func (s SPI) String() string {
	c := ""
	if s.Ciphered {
		c = ",ciphered"
	}
	pc := ""
	if s.PoRCiphered {
		pc = ",por-ciphered"
	}
	via := "deliver-report"
	if s.PoRSubmit {
		via = "submit"
	}
	return fmt.Sprintf("%s%s,counter=%s;por=%s,por-%s%s,por-via=%s",
		s.Integrity, c, s.Counter, s.PoR, s.PoRIntegrity, pc, via)
}

// MSL is a TAR's Minimum Security Level (TS 102 226, the MSL parameter of
// the application's install data). Its first byte is coded like SPI1; a
// command packet addressed to the TAR must offer at least that integrity,
// ciphering if asked and at least that counter mode. The zero value
// requires nothing.
type MSL struct {
	Integrity Integrity   // minimum integrity: none < RC < CC < DS
	Ciphered  bool        // ciphering required
	Counter   CounterMode // minimum counter mode: none < no-check < higher < one-higher
}

// ParseMSL decodes an MSL parameter byte (coded as SPI1).
func ParseMSL(b byte) MSL {
	s := ParseSPI(b, 0)
	return MSL{Integrity: s.Integrity, Ciphered: s.Ciphered, Counter: s.Counter}
}

// Byte encodes the MSL as its SPI1-coded byte.
func (m MSL) Byte() byte {
	b, _ := SPI{Integrity: m.Integrity, Ciphered: m.Ciphered, Counter: m.Counter}.Bytes()
	return b
}

// Allows reports whether a packet secured as spi meets the minimum
// security level m.
func (m MSL) Allows(spi SPI) bool {
	if spi.Integrity < m.Integrity {
		return false
	}
	if m.Ciphered && !spi.Ciphered {
		return false
	}
	return spi.Counter >= m.Counter
}

// WantsPoR reports whether the receiver sends a PoR with status st under
// the SPI2 PoR mode (TS 102 225 §5.1.1): always when required, only for
// statuses other than OK when "on error".
func (s SPI) WantsPoR(st Status) bool {
	switch s.PoR {
	case PoRRequired:
		return true
	case PoROnError:
		return st != StatusOK
	}
	return false
}
