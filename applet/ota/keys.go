package ota

import (
	"encoding/hex"
	"fmt"

	"github.com/simlab-dev/simlab/hsm"
)

// Algorithm is what the low nibble of a KIc or KID byte selects
// (TS 102 225 §5.1.2 and §5.1.3).
type Algorithm uint8

// Algorithms. AES key length (128/192/256) follows from the key itself.
const (
	AlgImplicit    Algorithm = iota // b2b1 = 00: known implicitly by both entities (the Keyset says which)
	AlgDESCBC                       // DES in CBC mode (single DES, 8-byte key)
	AlgTDES2                        // triple DES, outer CBC, two keys (16 bytes)
	AlgTDES3                        // triple DES, outer CBC, three keys (24 bytes)
	AlgDESECB                       // DES in ECB mode, KIc only
	AlgAES                          // AES: CBC for KIc, CMAC for KID
	AlgCRC16                        // redundancy check CRC16 (KID with RC)
	AlgCRC32                        // redundancy check CRC32 (KID with RC)
	AlgProprietary                  // b2b1 = 11: proprietary
	AlgReserved                     // a coding reserved for future use
)

var algNames = [...]string{"implicit", "des-cbc", "3des-2key", "3des-3key", "des-ecb", "aes", "crc16", "crc32", "proprietary", "reserved"}

// String returns the algorithm's name, e.g. "3des-2key".
func (a Algorithm) String() string {
	if int(a) < len(algNames) {
		return algNames[a]
	}
	return fmt.Sprintf("alg(%d)", uint8(a))
}

// ParseAlgorithm returns the algorithm a profile or flag names, the
// String of one of AlgDESCBC … AlgCRC32 (TS 102 225 §5.1.2, §5.1.3), e.g.
// "3des-2key". Names of codings that are not algorithms ("implicit",
// "proprietary", "reserved") give ErrUnsupported.
func ParseAlgorithm(s string) (Algorithm, error) {
	for a := AlgDESCBC; a <= AlgCRC32; a++ {
		if algNames[a] == s {
			return a, nil
		}
	}
	return 0, fmt.Errorf("%w: algorithm %q (want des-cbc, 3des-2key, 3des-3key, des-ecb, aes, crc16 or crc32)", ErrUnsupported, s)
}

// BlockSize returns the cipher block size (8 for DES/3DES, 16 for AES),
// or 0 for algorithms that are not block ciphers.
func (a Algorithm) BlockSize() int {
	switch a {
	case AlgDESCBC, AlgTDES2, AlgTDES3, AlgDESECB:
		return 8
	case AlgAES:
		return 16
	}
	return 0
}

// ChecksumLen returns the length of the RC/CC field the algorithm produces
// (TS 102 225 §5.1.2, §5.1.3): 2 for CRC16, 4 for CRC32, 8 for a CC.
func (a Algorithm) ChecksumLen() int {
	switch a {
	case AlgCRC16:
		return 2
	case AlgCRC32:
		return 4
	case AlgDESCBC, AlgTDES2, AlgTDES3, AlgAES:
		return 8
	}
	return 0
}

// KeyType returns the hsm key type for a key of keyLen bytes used with
// algorithm a: DES needs 8 bytes, 3DES two-key 16, three-key 24, AES 16,
// 24 or 32.
func KeyType(a Algorithm, keyLen int) (hsm.KeyType, error) {
	switch a {
	case AlgDESCBC, AlgDESECB:
		if keyLen == 8 {
			return hsm.DES, nil
		}
	case AlgTDES2:
		if keyLen == 16 {
			return hsm.TDES2, nil
		}
	case AlgTDES3:
		if keyLen == 24 {
			return hsm.TDES3, nil
		}
	case AlgAES:
		switch keyLen {
		case 16:
			return hsm.AES128, nil
		case 24:
			return hsm.AES192, nil
		case 32:
			return hsm.AES256, nil
		}
	default:
		return hsm.Unknown, fmt.Errorf("%w: %s takes no key", ErrUnsupported, a)
	}
	return hsm.Unknown, fmt.Errorf("%w: a %d-byte key does not fit %s", ErrKeyLength, keyLen, a)
}

// KIc is the key and algorithm identifier for ciphering (TS 102 225
// §5.1.2): b8-b5 key index, b4-b1 algorithm.
type KIc byte

// NewKIc codes a KIc from a key index (0-15) and a ciphering algorithm
// (AlgImplicit, AlgDESCBC, AlgTDES2, AlgTDES3, AlgDESECB or AlgAES).
func NewKIc(index int, a Algorithm) (KIc, error) {
	if index < 0 || index > 15 {
		return 0, fmt.Errorf("ota: KIc key index %d out of range 0..15", index)
	}
	var low byte
	switch a {
	case AlgImplicit:
		low = 0x0
	case AlgDESCBC:
		low = 0x1
	case AlgTDES2:
		low = 0x5
	case AlgTDES3:
		low = 0x9
	case AlgDESECB:
		low = 0xD
	case AlgAES:
		low = 0x2
	default:
		return 0, fmt.Errorf("%w: %s cannot cipher", ErrUnsupported, a)
	}
	return KIc(byte(index)<<4 | low), nil
}

// Index returns the key index, b8-b5.
func (k KIc) Index() int { return int(k >> 4) }

// Algorithm returns the ciphering algorithm b4-b1 selects.
func (k KIc) Algorithm() Algorithm {
	switch k & 0x3 {
	case 0:
		return AlgImplicit
	case 1:
		return [...]Algorithm{AlgDESCBC, AlgTDES2, AlgTDES3, AlgDESECB}[k>>2&3]
	case 2:
		if k&0xC == 0 {
			return AlgAES
		}
		return AlgReserved
	}
	return AlgProprietary
}

// String renders the KIc as "35 (index 3, 3des-2key)".
func (k KIc) String() string {
	return fmt.Sprintf("%02x (index %d, %s)", byte(k), k.Index(), k.Algorithm())
}

// KID is the key and algorithm identifier for the RC/CC/DS (TS 102 225
// §5.1.2, §5.1.3): b8-b5 key index, b4-b1 algorithm, read according to the
// integrity the SPI asks for.
type KID byte

// NewKID codes a KID from a key index (0-15) and an algorithm: AlgImplicit,
// AlgDESCBC, AlgTDES2, AlgTDES3 or AlgAES for a CC; AlgCRC16 or AlgCRC32 for
// an RC.
func NewKID(index int, a Algorithm) (KID, error) {
	if index < 0 || index > 15 {
		return 0, fmt.Errorf("ota: KID key index %d out of range 0..15", index)
	}
	var low byte
	switch a {
	case AlgImplicit:
		low = 0x0
	case AlgDESCBC, AlgCRC16:
		low = 0x1
	case AlgTDES2, AlgCRC32:
		low = 0x5
	case AlgTDES3:
		low = 0x9
	case AlgAES:
		low = 0x2
	default:
		return 0, fmt.Errorf("%w: %s cannot check integrity", ErrUnsupported, a)
	}
	return KID(byte(index)<<4 | low), nil
}

// Index returns the key index, b8-b5.
func (k KID) Index() int { return int(k >> 4) }

// Algorithm returns the algorithm b4-b1 selects for the integrity check
// integ: CRC16/CRC32 for RC, DES/3DES CBC-MAC or AES-CMAC for CC.
func (k KID) Algorithm(integ Integrity) Algorithm {
	sel := k >> 2 & 3
	switch integ {
	case IntegrityRC:
		switch k & 3 {
		case 0:
			return AlgImplicit
		case 1:
			switch sel {
			case 0:
				return AlgCRC16
			case 1:
				return AlgCRC32
			}
			return AlgReserved
		case 3:
			return AlgProprietary
		}
		return AlgReserved
	case IntegrityCC:
		switch k & 3 {
		case 0:
			return AlgImplicit
		case 1:
			if sel == 3 {
				return AlgReserved
			}
			return [...]Algorithm{AlgDESCBC, AlgTDES2, AlgTDES3}[sel]
		case 2:
			if sel == 0 {
				return AlgAES
			}
			return AlgReserved
		}
		return AlgProprietary
	}
	return AlgImplicit
}

// String renders the KID as "35 (index 3)".
func (k KID) String() string {
	return fmt.Sprintf("%02x (index %d)", byte(k), k.Index())
}

// TAR is the Toolkit Application Reference (TS 101 220 §6), the three
// bytes that address the receiving application.
type TAR [3]byte

// String returns the TAR as lower-case hex.
func (t TAR) String() string { return hex.EncodeToString(t[:]) }

// Counter is the 5-byte replay counter CNTR (TS 102 225 §5.1.1), big-endian.
type Counter [5]byte

// MaxCounter is the highest counter value; a card whose counter has
// reached it is blocked (PoR status 04).
const MaxCounter = 1<<40 - 1

// CounterFromUint64 returns n as a Counter; n is truncated to 40 bits.
func CounterFromUint64(n uint64) Counter {
	return Counter{byte(n >> 32), byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
}

// Uint64 returns the counter's value.
func (c Counter) Uint64() uint64 {
	return uint64(c[0])<<32 | uint64(c[1])<<24 | uint64(c[2])<<16 | uint64(c[3])<<8 | uint64(c[4])
}

// String returns the counter as lower-case hex.
func (c Counter) String() string { return hex.EncodeToString(c[:]) }

// Keys names the keys of one keyset by reference into an hsm.Keystore.
// KIcAlg and KIDAlg are used only when the KIc or KID byte says the
// algorithm is known implicitly (b2b1 = 00).
type Keys struct {
	KIc    string    // key reference for ciphering; "" when the keyset has none
	KID    string    // key reference for the cryptographic checksum; "" when none
	KIcAlg Algorithm // ciphering algorithm when KIc is implicit
	KIDAlg Algorithm // RC/CC algorithm when KID is implicit
	// Padding is how this side fills the padding it adds before
	// ciphering. It changes only what is sealed: opening accepts any
	// padding content.
	Padding Padding
}

// Padding is the content of the padding bytes added before ciphering. TS
// 102 225 §5.1.1 fixes only their number (PCNTR); implementations differ.
type Padding uint8

// Padding conventions.
const (
	PadZero Padding = iota // all zero bytes (pySim, gsm0348)
	// PadISO puts 80 in the first padding byte and zeros after it, when
	// padding is needed at all (onomondo-uicc).
	PadISO
)

// padding appends n padding bytes to b.
func (p Padding) append(b []byte, n int) []byte {
	b = append(b, zeroIV[:n]...)
	if p == PadISO && n > 0 {
		b[len(b)-n] = 0x80
	}
	return b
}
