package pdu

import (
	"fmt"
	"time"
)

// ParseTime decodes an SMPP time (SMPP 3.4 §7.1.1) "YYMMDDhhmmsstnnp":
// absolute when p is '+' or '-' (nn quarter hours from UTC), relative to
// now when p is 'R'. An empty value returns the zero time. now is only
// used for relative times; the function is pure.
func ParseTime(v []byte, now time.Time) (time.Time, error) {
	if len(v) == 0 {
		return time.Time{}, nil
	}
	if len(v) != 16 {
		return time.Time{}, malformed(0, "time", StatusInvExpiry, "%d characters, want 16 (YYMMDDhhmmsstnnp)", len(v))
	}
	var d [15]int
	for i := 0; i < 15; i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return time.Time{}, malformed(i, "time", StatusInvExpiry, "character %q is not a digit", c)
		}
		d[i] = int(c - '0')
	}
	two := func(i int) int { return d[i]*10 + d[i+1] }
	yy, mo, dd, hh, mi, ss, t, nn := two(0), two(2), two(4), two(6), two(8), two(10), d[12], two(13)
	switch v[15] {
	case 'R':
		return now.AddDate(yy, mo, dd).Add(time.Duration(hh)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(ss)*time.Second), nil
	case '+', '-':
		if mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh > 23 || mi > 59 || ss > 59 || nn > 48 {
			return time.Time{}, malformed(0, "time", StatusInvExpiry, "%q is out of range", v)
		}
		off := nn * 15 * 60
		if v[15] == '-' {
			off = -off
		}
		loc := time.FixedZone("", off)
		return time.Date(2000+yy, time.Month(mo), dd, hh, mi, ss, t*100_000_000, loc), nil
	}
	return time.Time{}, malformed(15, "time", StatusInvExpiry, "character %q, want '+', '-' or 'R'", v[15])
}

// AppendTime appends t as an absolute SMPP time in UTC
// ("YYMMDDhhmmsst00+"); the zero time appends nothing.
func AppendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	t = t.UTC()
	return fmt.Appendf(b, "%02d%02d%02d%02d%02d%02d%d00+", t.Year()%100, int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/100_000_000)
}

// AppendRelativeTime appends d as a relative SMPP time
// ("000DDhhmmss000R"), days up to 99.
func AppendRelativeTime(b []byte, d time.Duration) []byte {
	s := int(d / time.Second)
	days := min(s/86400, 99)
	s -= days * 86400
	return fmt.Appendf(b, "0000%02d%02d%02d%02d000R", days, s/3600, s/60%60, s%60)
}
