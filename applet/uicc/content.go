package uicc

import (
	"strings"

	"github.com/simlab-dev/simlab/applet/tlv"
)

// Contents of the elementary files built from a Profile. Codings follow
// ETSI TS 102 221 §13 and 3GPP TS 31.102 §4.

// swappedBCD encodes digits two per byte, low nibble first, padded with F
// to n bytes (TS 102 221 §13.2 for EF_ICCID, TS 24.008 §10.5.4.7 numbers).
func swappedBCD(digits string, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 0xFF
	}
	for i := 0; i < len(digits) && i/2 < n; i++ {
		d := digits[i] - '0'
		if i%2 == 0 {
			b[i/2] = 0xF0 | d
		} else {
			b[i/2] = b[i/2]&0x0F | d<<4
		}
	}
	return b
}

// efICCID is the 10-byte EF_ICCID (TS 102 221 §13.2).
func efICCID(iccid string) []byte { return swappedBCD(iccid, 10) }

// DecodeICCID reads the ICCID from EF_ICCID's content (TS 102 221 §13.2):
// swapped BCD digits up to the first filler nibble.
func DecodeICCID(ef []byte) string {
	var sb strings.Builder
	for _, c := range ef {
		for _, n := range []byte{c & 0x0F, c >> 4} {
			if n > 9 {
				return sb.String()
			}
			sb.WriteByte('0' + n)
		}
	}
	return sb.String()
}

// efIMSI is the 9-byte EF_IMSI (TS 31.102 §4.2.2): length, then the digits
// with the parity/type nibble first (odd 9, even 1).
func efIMSI(imsi string) []byte {
	b := make([]byte, 9)
	for i := range b {
		b[i] = 0xFF
	}
	b[0] = byte((len(imsi) + 2) / 2)
	parity := byte(0x1)
	if len(imsi)%2 == 1 {
		parity = 0x9
	}
	digits := string(rune('0'+parity)) + imsi // the type nibble takes the first position
	copy(b[1:], swappedBCD(digits, 8))
	return b
}

// dialNumber codes a number as TS 31.102 §4.2.26 (EF_MSISDN / EF_ADN):
// BCD length, TON/NPI, 10 bytes of BCD. International numbers start with +.
func dialNumber(num string) []byte {
	ton := byte(0x81) // unknown TON, ISDN/E.164
	if strings.HasPrefix(num, "+") {
		ton = 0x91
		num = num[1:]
	}
	out := make([]byte, 0, 12)
	out = append(out, byte(1+(len(num)+1)/2), ton)
	return append(out, swappedBCD(num, 10)...)
}

// msisdnRecord is one EF_MSISDN record: alpha identifier of alphaLen bytes
// (FF), dialling number, CCP2 FF, Ext5 FF.
func msisdnRecord(num string, alphaLen int) []byte {
	r := make([]byte, 0, alphaLen+14)
	for range alphaLen {
		r = append(r, 0xFF)
	}
	r = append(r, dialNumber(num)...)
	return append(r, 0xFF, 0xFF)
}

// smspRecord is one EF_SMSP record (TS 31.102 §4.2.27): alpha identifier,
// parameter indicators (bit = 0: present), TP-DA, TS-SC address, PID, DCS,
// VP. Only the SC address, PID 00, DCS 00 and VP (relative, 1 day) are given.
func smspRecord(smsc string, alphaLen int) []byte {
	r := make([]byte, 0, alphaLen+28)
	for range alphaLen {
		r = append(r, 0xFF)
	}
	ind := byte(0xE1) // b1=1 TP-DA absent; b2..b5 = 0 SCA, PID, DCS, VP present
	if smsc == "" {
		ind |= 0x02
	}
	r = append(r, ind)
	for range 12 { // TP-Destination Address: absent
		r = append(r, 0xFF)
	}
	if smsc == "" {
		for range 12 {
			r = append(r, 0xFF)
		}
	} else {
		sc := dialNumber(smsc)
		// TS-SC address is coded as in TS 24.011 (length in bytes, TON/NPI, BCD).
		sc[0] = byte(1 + (len(strings.TrimPrefix(smsc, "+"))+1)/2)
		r = append(r, sc...)
	}
	return append(r, 0x00, 0x00, 0xA7) // PID 00, DCS 00, VP A7 = 24 hours
}

// efUST is EF_UST (TS 31.102 §4.2.8): a bitmap of services in use. simlab
// sets SMS (10), SMSP (12), SPN (19), MSISDN (21), GSM access (27), data
// download via SMS-PP (28), MO-SMS control (31), USAT (all proactive
// commands: services 30/32 do not apply here).
func efUST() []byte {
	b := make([]byte, 8)
	for _, s := range []int{10, 12, 19, 21, 27, 28, 31} {
		b[(s-1)/8] |= 1 << ((s - 1) % 8)
	}
	return b
}

// efAD is EF_AD (TS 31.102 §4.2.18): normal operation, no ciphering
// indicator, MNC length.
func efAD(mncLen int) []byte { return []byte{0x00, 0x00, 0x00, byte(mncLen)} }

// efLanguages is EF_PL / EF_LI: 2-byte codes, padded with FF to n entries.
func efLanguages(langs []string, n int) []byte {
	b := make([]byte, 2*n)
	for i := range b {
		b[i] = 0xFF
	}
	for i, l := range langs {
		if i < n {
			copy(b[2*i:], strings.ToLower(l))
		}
	}
	return b
}

// efSPN is EF_SPN (TS 31.102 §4.2.12): display condition, 16 bytes of name
// in the GSM default alphabet (ASCII letters, digits and space map 1:1),
// padded with FF.
func efSPN(name string) []byte {
	b := make([]byte, 17)
	for i := range b {
		b[i] = 0xFF
	}
	b[0] = 0x01
	for i := 0; i < len(name) && i < 16; i++ {
		c := name[i]
		if c >= 0x20 && c < 0x7F && c != '@' && c != '$' && c != '_' {
			b[1+i] = c
		} else {
			b[1+i] = ' '
		}
	}
	return b
}

// dirRecord is an EF_DIR record (TS 102 221 §13.1): application template
// 61 with AID 4F and label 50, padded with FF to n bytes.
func dirRecord(aid []byte, label string, n int) []byte {
	r := tlv.AppendBERFunc(make([]byte, 0, n), tlv.TagApplication, func(b []byte) []byte {
		b = tlv.AppendBER(b, tlv.TagAID, aid)
		return tlv.AppendBER(b, tlv.TagAppLabel, []byte(label))
	})
	for len(r) < n {
		r = append(r, 0xFF)
	}
	return r
}
