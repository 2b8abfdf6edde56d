package uicc

import (
	"crypto/subtle"

	"github.com/simlab-dev/simlab/applet/apdu"
)

// pinState is a PIN, PUK or ADM code with its retry counter (ETSI TS 102
// 221 §9.5). The value is kept in its on-card coding: ASCII digits padded
// with FF to 8 bytes.
type pinState struct {
	value    [8]byte
	enabled  bool
	retries  int
	max      int
	verified bool
}

func newPIN(p PIN, enabled bool) pinState {
	s := pinState{enabled: enabled, retries: p.Retries, max: p.Retries}
	s.value = padPIN(p.Value)
	return s
}

func padPIN(v string) [8]byte {
	var b [8]byte
	for i := range b {
		b[i] = 0xFF
	}
	copy(b[:], v)
	return b
}

// wellFormed reports whether b is 4 to 8 ASCII digits padded with FF
// (TS 102 221 §9.5.2).
func wellFormed(b []byte) bool {
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	for _, c := range b[n:] {
		if c != 0xFF {
			return false
		}
	}
	return n >= 4
}

// check compares a candidate in constant time and updates the counter:
// 9000 on success (counter reset), 63Cx while tries are left, 6983 when the
// code is, or becomes, blocked.
func (p *pinState) check(candidate []byte) apdu.SW {
	if p.retries == 0 {
		return apdu.SWAuthBlocked
	}
	if subtle.ConstantTimeCompare(p.value[:], candidate) == 1 {
		p.retries = p.max
		return apdu.SWOK
	}
	p.retries--
	p.verified = false
	if p.retries == 0 {
		return apdu.SWAuthBlocked
	}
	return apdu.VerifyFailed(p.retries)
}

func (c *Card) pin1OK() bool { return !c.pin1.enabled || c.pin1.verified }

// pinCommand serves VERIFY, CHANGE, DISABLE, ENABLE and UNBLOCK PIN (TS 102
// 221 §11.1.9 to §11.1.13; VERIFY/CHANGE/DISABLE/ENABLE/UNBLOCK CHV of TS
// 51.011 §9.2.9 to §9.2.13 in class A0). Key references: 01 PIN1, 0A ADM1
// (VERIFY only); in class A0, CHV1 is P2 01 (00 for UNBLOCK CHV).
func (c *Card) pinCommand(cmd *apdu.Command, gsm bool) apdu.SW {
	if cmd.P1 != 0 || cmd.Ne != 0 {
		if cmd.Ne != 0 {
			return apdu.SWWrongLength
		}
		return apdu.SWIncorrectP1P2
	}
	ref := cmd.P2
	if gsm && cmd.INS == apdu.INSUnblockPIN && ref == 0x00 {
		ref = 0x01
	}
	var p *pinState
	switch ref {
	case 0x01:
		p = &c.pin1
	case 0x0A:
		if gsm {
			return apdu.SWRefDataNotFound
		}
		p = &c.adm1
		if cmd.INS != apdu.INSVerifyPIN {
			return apdu.SWConditionsOfUse
		}
	default:
		return apdu.SWRefDataNotFound
	}
	d := cmd.Data
	switch cmd.INS {
	case apdu.INSVerifyPIN:
		if len(d) == 0 { // retry counter query (TS 102 221 §11.1.9.1)
			switch {
			case p.retries == 0:
				return apdu.SWAuthBlocked
			case p.verified || !p.enabled:
				return apdu.SWOK
			}
			return apdu.VerifyFailed(p.retries)
		}
		if len(d) != 8 {
			return apdu.SWWrongLength
		}
		if !wellFormed(d) {
			return apdu.SWIncorrectData
		}
		sw := p.check(d)
		if sw == apdu.SWOK {
			p.verified = true
		}
		return sw
	case apdu.INSChangePIN:
		if len(d) != 16 {
			return apdu.SWWrongLength
		}
		if !p.enabled {
			return apdu.SWRefDataInvalidated
		}
		if !wellFormed(d[:8]) || !wellFormed(d[8:]) {
			return apdu.SWIncorrectData
		}
		sw := p.check(d[:8])
		if sw == apdu.SWOK {
			copy(p.value[:], d[8:])
			p.verified = true
		}
		return sw
	case apdu.INSDisablePIN, apdu.INSEnablePIN:
		if len(d) != 8 {
			return apdu.SWWrongLength
		}
		want := cmd.INS == apdu.INSEnablePIN
		if p.retries == 0 {
			return apdu.SWAuthBlocked
		}
		if p.enabled == want {
			return apdu.SWConditionsOfUse
		}
		if !wellFormed(d) {
			return apdu.SWIncorrectData
		}
		sw := p.check(d)
		if sw == apdu.SWOK {
			p.enabled = want
			p.verified = want
		}
		return sw
	case apdu.INSUnblockPIN:
		puk := &c.puk1
		if len(d) == 0 {
			if puk.retries == 0 {
				return apdu.SWAuthBlocked
			}
			return apdu.VerifyFailed(puk.retries)
		}
		if len(d) != 16 {
			return apdu.SWWrongLength
		}
		if !wellFormed(d[:8]) || !wellFormed(d[8:]) {
			return apdu.SWIncorrectData
		}
		sw := puk.check(d[:8])
		if sw == apdu.SWOK {
			copy(p.value[:], d[8:])
			p.retries = p.max
			p.verified = true
		}
		return sw
	}
	return apdu.SWINSNotSupported
}
