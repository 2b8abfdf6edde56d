package ota

import (
	"context"
	"crypto/subtle"
	"fmt"

	"github.com/simlab-dev/simlab/hsm"
)

// zeroIV is the all-zero initial chaining value of TS 102 225 §5.1.2. It is
// only ever read.
var zeroIV [16]byte

// security is the resolved protection of one packet: which checksum with
// which key, and which cipher with which key.
type security struct {
	integ    Integrity
	integAlg Algorithm
	cl       int // RC/CC length in bytes
	kidRef   string

	ciphered  bool
	cipherAlg Algorithm
	kicRef    string
}

// resolveSecurity works out algorithms and keys for a packet protected with
// integ/ciphered under kic/kid and the keyset keys. The error wraps
// ErrUnsupported, ErrNoKey, ErrCipher or ErrIntegrity; the status says which
// PoR status the failure stands for.
func resolveSecurity(integ Integrity, ciphered bool, kic KIc, kid KID, keys *Keys) (security, Status, error) {
	s := security{integ: integ, ciphered: ciphered}
	switch integ {
	case IntegrityNone:
	case IntegrityRC, IntegrityCC:
		a := kid.Algorithm(integ)
		if a == AlgImplicit {
			a = keys.KIDAlg
		}
		s.integAlg = a
		s.cl = a.ChecksumLen()
		ok := false
		if integ == IntegrityRC {
			ok = a == AlgCRC16 || a == AlgCRC32
		} else {
			ok = a == AlgDESCBC || a == AlgTDES2 || a == AlgTDES3 || a == AlgAES
		}
		if !ok {
			return s, StatusUndefinedSecurity, fmt.Errorf("%w: KID %02x gives %s for %s", ErrUnsupported, byte(kid), a, integ)
		}
		if integ == IntegrityCC {
			if keys.KID == "" {
				return s, StatusUndefinedSecurity, fmt.Errorf("%w: no KID key with index %d", ErrNoKey, kid.Index())
			}
			s.kidRef = keys.KID
		}
	default:
		return s, StatusUndefinedSecurity, fmt.Errorf("%w: digital signature (DS) integrity", ErrUnsupported)
	}
	if ciphered {
		a := kic.Algorithm()
		if a == AlgImplicit {
			a = keys.KIcAlg
		}
		if a.BlockSize() == 0 {
			return s, StatusCipheringError, fmt.Errorf("%w: KIc %02x gives %s for ciphering", ErrUnsupported, byte(kic), a)
		}
		if keys.KIc == "" {
			return s, StatusCipheringError, fmt.Errorf("%w: no KIc key with index %d", ErrNoKey, kic.Index())
		}
		s.cipherAlg = a
		s.kicRef = keys.KIc
	}
	return s, StatusOK, nil
}

// padLen returns how many zero bytes pad a ciphered part of n bytes to the
// cipher's block size (0 when not ciphered).
func (s *security) padLen(n int) int {
	if !s.ciphered {
		return 0
	}
	bs := s.cipherAlg.BlockSize()
	return (bs - n%bs) % bs
}

func (s *security) mode() hsm.Mode {
	if s.cipherAlg == AlgDESECB {
		return hsm.ECB
	}
	return hsm.CBC
}

// checksum writes the RC or CC of in (TS 102 225 §5.1.2, §5.1.3) to out.
// For DES/3DES the input is padded with zeros to the block size, using
// in's spare capacity (the bytes past len(in) are scratch).
func (s *security) checksum(ctx context.Context, ks hsm.Keystore, in []byte, out *[8]byte) error {
	switch s.integAlg {
	case AlgCRC16, AlgCRC32:
		appendRC(out[:0], s.integAlg, in)
		return nil
	case AlgAES:
		mac, err := ks.MAC(ctx, s.kidRef, in)
		if err != nil {
			return fmt.Errorf("ota: CC: %w", err)
		}
		if len(mac) < 8 {
			return fmt.Errorf("ota: CC: keystore returned %d bytes, want 16", len(mac))
		}
		copy(out[:], mac[:8])
		return nil
	default: // DES, 3DES: CBC-MAC over the zero-padded input, last block
		n := len(in)
		if p := (8 - n%8) % 8; p > 0 {
			in = append(in, zeroIV[:p]...)
		}
		mac, err := ks.MAC(ctx, s.kidRef, in)
		if err != nil {
			return fmt.Errorf("ota: CC: %w", err)
		}
		if len(mac) < 8 {
			return fmt.Errorf("ota: CC: keystore returned %d bytes, want 8", len(mac))
		}
		copy(out[:], mac[len(mac)-8:])
		return nil
	}
}

// seal finishes a packet in buf: buf holds the checksum input (everything
// but the RC/CC field, padding included). seal inserts the RC/CC at ccOff
// and ciphers buf[secOff:]. buf must have 8 spare bytes of capacity for
// the MAC padding and cl more for the checksum.
func (s *security) seal(ctx context.Context, ks hsm.Keystore, buf []byte, ccOff, secOff int) ([]byte, error) {
	if s.cl > 0 {
		var cs [8]byte
		if err := s.checksum(ctx, ks, buf, &cs); err != nil {
			return nil, err
		}
		n := len(buf)
		buf = append(buf, cs[:s.cl]...)
		copy(buf[ccOff+s.cl:], buf[ccOff:n])
		copy(buf[ccOff:], cs[:s.cl])
	}
	if s.ciphered {
		enc, err := ks.Encrypt(ctx, s.kicRef, s.mode(), zeroIV[:s.cipherAlg.BlockSize()], buf[secOff:])
		if err != nil {
			return nil, fmt.Errorf("ota: ciphering: %w", err)
		}
		if len(enc) != len(buf)-secOff {
			return nil, fmt.Errorf("ota: ciphering: keystore returned %d bytes for %d", len(enc), len(buf)-secOff)
		}
		copy(buf[secOff:], enc)
	}
	return buf, nil
}

// open deciphers work[secOff:] in place when ciphered, takes the RC/CC out
// of work[ccOff:ccOff+cl] and checks it against the rest. It returns work
// without the checksum field and whether the checksum matched. A ciphering
// failure is reported as an error wrapping ErrCipher.
func (s *security) open(ctx context.Context, ks hsm.Keystore, work []byte, ccOff, secOff int) ([]byte, bool, error) {
	if s.ciphered {
		bs := s.cipherAlg.BlockSize()
		if n := len(work) - secOff; n%bs != 0 {
			return nil, false, fmt.Errorf("%w: ciphered part of %d bytes is not a multiple of the %d-byte block", ErrCipher, n, bs)
		}
		dec, err := ks.Decrypt(ctx, s.kicRef, s.mode(), zeroIV[:bs], work[secOff:])
		if err != nil {
			return nil, false, fmt.Errorf("%w: %w", ErrCipher, err)
		}
		if len(dec) != len(work)-secOff {
			return nil, false, fmt.Errorf("%w: keystore returned %d bytes for %d", ErrCipher, len(dec), len(work)-secOff)
		}
		copy(work[secOff:], dec)
	}
	if s.cl == 0 {
		return work, true, nil
	}
	if len(work) < ccOff+s.cl {
		return nil, false, fmt.Errorf("%w: %d bytes leave no room for a %d-byte RC/CC", ErrMalformed, len(work), s.cl)
	}
	var got, want [8]byte
	copy(got[:], work[ccOff:ccOff+s.cl])
	copy(work[ccOff:], work[ccOff+s.cl:])
	work = work[:len(work)-s.cl]
	if err := s.checksum(ctx, ks, work, &want); err != nil {
		return nil, false, err
	}
	ok := subtle.ConstantTimeCompare(got[:s.cl], want[:s.cl]) == 1
	return work, ok, nil
}
