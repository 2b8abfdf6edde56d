package tpdu

import (
	"fmt"
	"time"
)

// EncodeText returns the data coding scheme and user data for s: the GSM
// 7-bit default alphabet (septets, DCS 00) when every character is in it or
// its extension table, UCS2 (DCS 08) otherwise (3GPP TS 23.038).
func EncodeText(s string) (DCS, []byte) {
	if septets, err := EncodeGSM7(s); err == nil {
		return DCSGSM7, septets
	}
	return DCSUCS2, EncodeUCS2(s)
}

// partCapacity returns how many data units (septets or octets) fit one
// TPDU's user data after a header of h octets (UDHL included, 0 for none).
func partCapacity(septets bool, h int) int {
	if septets {
		return maxUserDataSeptets - (h*8+6)/7
	}
	return maxUserDataOctets - h
}

// Split cuts data (septets when dcs.Septets(), octets otherwise) into the
// user data of as many TPDUs as it needs (3GPP TS 23.040 §9.2.3.24.1). Each
// part carries header plus, when more than one part is needed, a
// concatenation IE with reference ref: 8-bit (IEI 00) unless ref16 (IEI 08).
// A GSM 7-bit escape is never separated from the character it escapes, nor
// a UCS2 surrogate pair split. At most 255 parts.
func Split(dcs DCS, data []byte, header []IE, ref uint16, ref16 bool) ([]UserData, error) {
	septets := dcs.Septets()
	h := 0
	if len(header) > 0 {
		h = HeaderLen(header)
	}
	if len(data) <= partCapacity(septets, h) {
		return []UserData{{Header: header, Data: data}}, nil
	}
	concat := Concat8(byte(ref), 0, 0)
	if ref16 {
		concat = Concat16(ref, 0, 0)
	}
	hdr := append(append(make([]IE, 0, len(header)+1), header...), concat)
	capacity := partCapacity(septets, HeaderLen(hdr))
	if capacity < 2 {
		return nil, fmt.Errorf("tpdu: %w: header of %d octets leaves no room for data", ErrLength, HeaderLen(hdr))
	}
	ucs2 := dcs.Alphabet() == AlphabetUCS2 && !dcs.Compressed()
	if ucs2 {
		capacity &^= 1
	}
	var chunks [][]byte
	for rest := data; len(rest) > 0; {
		n := min(capacity, len(rest))
		if n < len(rest) {
			switch {
			case septets && rest[n-1] == gsmEscape:
				n--
			case ucs2 && rest[n-2]&0xFC == 0xD8: // high surrogate last
				n -= 2
			}
		}
		chunks = append(chunks, rest[:n])
		rest = rest[n:]
	}
	if len(chunks) > 255 {
		return nil, fmt.Errorf("tpdu: %w: %d parts, at most 255", ErrLength, len(chunks))
	}
	parts := make([]UserData, len(chunks))
	for i, c := range chunks {
		ies := append(make([]IE, 0, len(hdr)), hdr...)
		if ref16 {
			ies[len(ies)-1] = Concat16(ref, byte(len(chunks)), byte(i+1))
		} else {
			ies[len(ies)-1] = Concat8(byte(ref), byte(len(chunks)), byte(i+1))
		}
		parts[i] = UserData{Header: ies, Data: c}
	}
	return parts, nil
}

// SplitText encodes s (GSM 7-bit if possible, else UCS2) and splits it into
// parts with an 8-bit concatenation reference ref when it does not fit one
// SMS: up to 160 GSM characters or 70 UCS2 ones fit one, 153 or 67 per part
// otherwise.
func SplitText(s string, ref byte) (DCS, []UserData, error) {
	dcs, data := EncodeText(s)
	parts, err := Split(dcs, data, nil, uint16(ref), false)
	return dcs, parts, err
}

// NewSIMDataDownload returns the SMS-DELIVER that carries a secured command
// packet to a (U)SIM (3GPP TS 31.111 §7.1.1, TS 31.115 §4): PID 7F, DCS F6
// (8-bit, class 2), a user data header with IE 70 (command packet
// identifier) and the packet as data.
func NewSIMDataDownload(oa Address, scts time.Time, packet []byte) *Deliver {
	return &Deliver{
		OA:   oa,
		PID:  PIDSIMDataDownload,
		DCS:  DCS8BitClass2,
		SCTS: scts,
		UD:   UserData{Header: []IE{{ID: IEICommandPacket, Data: []byte{}}}, Data: packet},
	}
}
