package uicc

import (
	"strings"

	"github.com/simlab-dev/simlab/applet/tlv"
)

// Contents of the elementary files built from a Profile. Codings follow
// ETSI TS 102 221 §13 and 3GPP TS 31.102 §4.

// swappedBCD encodes digits two per byte, low nibble first, padded with F
// to n bytes (TS 102 221 §13.2 for EF_ICCID, TS 24.008 §10.5.4.7 numbers).
func swappedBCD(digits string, n int) []byte { return appendSwappedBCD(nil, digits, n) }

// appendSwappedBCD appends swappedBCD(digits, n) to dst.
func appendSwappedBCD(dst []byte, digits string, n int) []byte {
	s := len(dst)
	for range n {
		dst = append(dst, 0xFF)
	}
	putBCD(dst[s:], 0, digits)
	return dst
}

// putBCD writes digits in swapped BCD into b from nibble k on (nibble 0
// is the low one of b[0]), as far as b goes.
func putBCD(b []byte, k int, digits string) {
	for i := 0; i < len(digits) && (k+i)/2 < len(b); i++ {
		j, d := k+i, digits[i]-'0'
		if j%2 == 0 {
			b[j/2] = 0xF0 | d
		} else {
			b[j/2] = b[j/2]&0x0F | d<<4
		}
	}
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

// DecodeIMSI reads the IMSI from EF_IMSI's content (TS 31.102 §4.2.2,
// TS 51.011 §10.3.2): a length byte, then swapped BCD digits whose first
// nibble is the parity/type nibble. It returns "" when the length byte is
// 0, FF or beyond the content.
func DecodeIMSI(ef []byte) string {
	if len(ef) < 2 || ef[0] == 0 || int(ef[0]) > len(ef)-1 {
		return ""
	}
	digits := DecodeICCID(ef[1 : 1+int(ef[0])])
	if len(digits) < 1 {
		return ""
	}
	return digits[1:]
}

// efIMSI is the 9-byte EF_IMSI (TS 31.102 §4.2.2): length, then the digits
// with the parity/type nibble first (odd 9, even 1).
func efIMSI(imsi string) []byte { return appendIMSI(nil, imsi) }

// appendIMSI appends efIMSI(imsi) to dst.
func appendIMSI(dst []byte, imsi string) []byte {
	dst = append(dst, byte((len(imsi)+2)/2))
	s := len(dst)
	dst = appendSwappedBCD(dst, "", imsiLen-1)
	parity := byte(0x1)
	if len(imsi)%2 == 1 {
		parity = 0x9
	}
	dst[s] = 0xF0 | parity // the type nibble takes the first position
	putBCD(dst[s:], 1, imsi)
	return dst
}

// dialNumber codes a number as TS 31.102 §4.2.26 (EF_MSISDN / EF_ADN):
// BCD length, TON/NPI, 10 bytes of BCD. International numbers start with +.
func dialNumber(num string) []byte { return appendDialNumber(make([]byte, 0, 12), num) }

// appendDialNumber appends dialNumber(num) to dst.
func appendDialNumber(dst []byte, num string) []byte {
	ton := byte(0x81) // unknown TON, ISDN/E.164
	if strings.HasPrefix(num, "+") {
		ton = 0x91
		num = num[1:]
	}
	dst = append(dst, byte(1+(len(num)+1)/2), ton)
	return appendSwappedBCD(dst, num, 10)
}

// appendMSISDNRecord appends one EF_MSISDN record: alpha identifier of
// alphaLen bytes (FF), dialling number, CCP2 FF, Ext5 FF.
func appendMSISDNRecord(dst []byte, num string, alphaLen int) []byte {
	for range alphaLen {
		dst = append(dst, 0xFF)
	}
	dst = appendDialNumber(dst, num)
	return append(dst, 0xFF, 0xFF)
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

// appendPLMN appends MCC and MNC coded as TS 24.008 §10.5.1.3 does (3
// bytes: MCC2 MCC1, MNC3 MCC3, MNC2 MNC1; MNC3 = F for a 2-digit MNC),
// taking them from the IMSI with a 2-digit MNC as EF_AD says.
func appendPLMN(dst []byte, imsi string) []byte {
	d := func(i int) byte {
		if i < len(imsi) {
			return imsi[i] - '0'
		}
		return 0x0F
	}
	return append(dst, d(1)<<4|d(0), 0xF0|d(2), d(4)<<4|d(3))
}

// filled returns n bytes of v.
func filled(n int, v byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = v
	}
	return b
}

// appendACC appends EF_ACC (TS 31.102 §4.2.15, TS 51.011 §10.3.15): the
// access control class, one of 0..9 allocated from the last digit of the
// IMSI (TS 22.011 §4.2). Byte 2 b1..b8 are classes 0..7, byte 1 b1..b2
// 8..9.
func appendACC(dst []byte, imsi string) []byte {
	class := int(imsi[len(imsi)-1] - '0')
	v := uint16(1) << class
	return append(dst, byte(v>>8), byte(v))
}

// appendLOCI appends EF_LOCI (TS 31.102 §4.2.17, TS 51.011 §10.3.17) of a
// card that has not registered yet: no TMSI, the home PLMN with the
// "deleted" LAC FFFE (TS 24.008 §10.5.1.3), location update status 01 "not
// updated".
func appendLOCI(dst []byte, imsi string) []byte {
	dst = append(dst, 0xFF, 0xFF, 0xFF, 0xFF)
	dst = appendPLMN(dst, imsi)
	return append(dst, 0xFF, 0xFE, 0xFF, 0x01)
}

// appendPSLOCI appends EF_PSLOCI (TS 31.102 §4.2.23): no P-TMSI nor
// signature, the routing area of the home PLMN with the deleted LAC and RAC
// FF, routing area update status 01 "not updated".
func appendPSLOCI(dst []byte, imsi string) []byte {
	dst = append(dst, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF)
	dst = appendPLMN(dst, imsi)
	return append(dst, 0xFF, 0xFE, 0xFF, 0x01)
}

// efKeys is EF_Keys or EF_KeysPS (TS 31.102 §4.2.3, §4.2.4): key set
// identifier 07 "no key available", CK and IK unset.
func efKeys() []byte { return append([]byte{0x07}, filled(32, 0xFF)...) }

// efKc is EF_Kc (TS 51.011 §10.3.2): no Kc, CKSN 07 "no key available".
func efKc() []byte { return append(filled(8, 0xFF), 0x07) }

// efECC is one EF_ECC record of TS 31.102 §4.2.21 (emergency call code in
// BCD, no alpha identifier, category 00), 4 bytes.
func efECC(code string) []byte { return append(swappedBCD(code, 3), 0x00) }

// efGSMSST is the SIM service table of DF_GSM (TS 51.011 §10.3.7): two
// bits per service, allocated and activated. simlab's card has CHV1
// disable (1), SMS (4), MSISDN (9), SMSP (12), SPN (17), data download via
// SMS-PP (26) and proactive SIM (29).
func efGSMSST() []byte {
	b := make([]byte, 8)
	for _, s := range []int{1, 4, 9, 12, 17, 26, 29} {
		b[(s-1)/4] |= 0x03 << (2 * ((s - 1) % 4))
	}
	return b
}

// cbsLanguages are the TS 23.038 §5 language codes that EF_LP uses.
var cbsLanguages = map[string]byte{
	"de": 0x00, "en": 0x01, "it": 0x02, "fr": 0x03, "es": 0x04, "nl": 0x05, "sv": 0x06, "da": 0x07,
	"pt": 0x08, "fi": 0x09, "no": 0x0A, "el": 0x0B, "tr": 0x0C, "hu": 0x0D, "pl": 0x0E,
}

// efLP is EF_LP of DF_GSM (TS 51.011 §10.3.1): one TS 23.038 language code
// per byte (0F "language unspecified" for the others), padded with FF.
func efLP(langs []string, n int) []byte {
	b := filled(n, 0xFF)
	for i, l := range langs {
		if i >= n {
			break
		}
		c, ok := cbsLanguages[strings.ToLower(l)]
		if !ok {
			c = 0x0F
		}
		b[i] = c
	}
	return b
}

// efNETPAR is EF_NETPAR (TS 31.102 §4.2.47) with nothing learnt yet: the
// GSM, FDD and TDD cell information templates empty, the rest FF.
func efNETPAR() []byte {
	return append([]byte{0xA0, 0x00, 0xA1, 0x00, 0xA2, 0x00}, filled(10, 0xFF)...)
}

// arrRecords are the records of EF_ARR (TS 102 221 §9.2.4, expanded
// format): the access rules the card's files follow, for clients that
// read them; the FCPs themselves carry compact security attributes.
// Record 1: read always, update ADM; 2: read and update PIN1; 3: read
// PIN1, update ADM; 4: read always, update PIN1.
func arrRecords() [][]byte {
	always := []byte{0x90, 0x00}
	pin := []byte{0xA4, 0x06, 0x83, 0x01, 0x01, 0x95, 0x01, 0x08}
	adm := []byte{0xA4, 0x06, 0x83, 0x01, 0x0A, 0x95, 0x01, 0x08}
	rule := func(read, update []byte) []byte {
		r := append([]byte{0x80, 0x01, 0x01}, read...)
		r = append(r, 0x80, 0x01, 0x02)
		return append(r, update...)
	}
	return [][]byte{rule(always, adm), rule(pin, pin), rule(pin, adm), rule(always, pin)}
}
