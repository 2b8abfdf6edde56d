package tpdu

import (
	"fmt"
	"time"
)

// VPFormat is TP-VPF, the format of the validity period of an SMS-SUBMIT
// (3GPP TS 23.040 §9.2.3.3).
type VPFormat byte

// Validity period formats (TS 23.040 §9.2.3.3).
const (
	VPFNone     VPFormat = 0 // no TP-VP
	VPFEnhanced VPFormat = 1 // 7 octets, §9.2.3.12.3
	VPFRelative VPFormat = 2 // 1 octet, §9.2.3.12.1
	VPFAbsolute VPFormat = 3 // 7 octets, a time stamp, §9.2.3.12.2
)

// String returns the TS 23.040 name of the format.
func (f VPFormat) String() string {
	return [4]string{"not present", "enhanced", "relative", "absolute"}[f&3]
}

// ValidityPeriod is TP-VP (3GPP TS 23.040 §9.2.3.12).
type ValidityPeriod struct {
	Format   VPFormat
	Relative byte      // relative format: the coded octet (see RelativeVP)
	Absolute time.Time // absolute format
	Enhanced [7]byte   // enhanced format, as sent
}

// RelativeVP returns a relative validity period of at least d, rounded up
// to the next coded value (TS 23.040 §9.2.3.12.1), capped at 63 weeks.
func RelativeVP(d time.Duration) ValidityPeriod {
	v := ValidityPeriod{Format: VPFRelative}
	m := int((d + time.Minute - 1) / time.Minute)
	switch {
	case m <= 12*60:
		v.Relative = byte(max((m+4)/5-1, 0))
	case m <= 24*60:
		v.Relative = byte(143 + (m-12*60+29)/30)
	case m <= 30*24*60:
		v.Relative = byte(166 + (m+24*60-1)/(24*60))
	default:
		v.Relative = byte(min(192+(m+7*24*60-1)/(7*24*60), 255))
	}
	return v
}

// relativeDuration decodes a relative validity period octet.
func relativeDuration(r byte) time.Duration {
	v := time.Duration(r)
	switch {
	case r <= 143:
		return (v + 1) * 5 * time.Minute
	case r <= 167:
		return 12*time.Hour + (v-143)*30*time.Minute
	case r <= 196:
		return (v - 166) * 24 * time.Hour
	default:
		return (v - 192) * 7 * 24 * time.Hour
	}
}

// Duration returns the period for the relative format and for the relative
// kinds of the enhanced format; ok is false otherwise.
func (v ValidityPeriod) Duration() (d time.Duration, ok bool) {
	switch v.Format {
	case VPFRelative:
		return relativeDuration(v.Relative), true
	case VPFEnhanced:
		switch v.Enhanced[0] & 7 {
		case 1:
			return relativeDuration(v.Enhanced[1]), true
		case 2:
			return time.Duration(v.Enhanced[1]) * time.Second, true
		case 3:
			h, ok1 := unswapBCD(v.Enhanced[1])
			m, ok2 := unswapBCD(v.Enhanced[2])
			s, ok3 := unswapBCD(v.Enhanced[3])
			if ok1 && ok2 && ok3 {
				return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second, true
			}
		}
	}
	return 0, false
}

// String describes the period.
func (v ValidityPeriod) String() string {
	switch v.Format {
	case VPFNone:
		return "not present"
	case VPFAbsolute:
		return "until " + v.Absolute.Format("2006-01-02 15:04:05 -07:00")
	}
	if d, ok := v.Duration(); ok {
		s := v.Format.String() + ", " + d.String()
		if v.Format == VPFEnhanced && v.Enhanced[0]&0x40 != 0 {
			s += ", single shot"
		}
		return s
	}
	return fmt.Sprintf("enhanced, functionality indicator %02X", v.Enhanced[0])
}

func (v ValidityPeriod) appendTo(dst []byte) ([]byte, error) {
	switch v.Format & 3 {
	case VPFRelative:
		return append(dst, v.Relative), nil
	case VPFAbsolute:
		return AppendTimestamp(dst, v.Absolute)
	case VPFEnhanced:
		return append(dst, v.Enhanced[:]...), nil
	}
	return dst, nil
}

func (v *ValidityPeriod) parse(b []byte, off int, f VPFormat) (int, error) {
	v.Format = f
	switch f {
	case VPFRelative:
		if off >= len(b) {
			return 0, errAt(off, "TP-VP", ErrTruncated, "a relative validity period octet")
		}
		v.Relative = b[off]
		return 1, nil
	case VPFAbsolute:
		t, err := parseTimestamp(b, off, "TP-VP")
		v.Absolute = t
		return 7, err
	case VPFEnhanced:
		if len(b)-off < 7 {
			return 0, errAt(len(b), "TP-VP", ErrTruncated, "a 7-octet enhanced validity period")
		}
		copy(v.Enhanced[:], b[off:off+7])
		return 7, nil
	}
	return 0, nil
}
