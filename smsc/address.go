package smsc

import "strings"

// intl00Min is the shortest number written with the international prefix
// "00" that NormalizeNumber drops it from (00 + at least 10 digits): shorter
// ones, such as the short code 0012, keep their zeros.
const intl00Min = 12

// NormalizeNumber returns the digits of a phone number as people and
// systems write it: a leading "+" or international "00", spaces (a raw
// "+" in a URL query decodes to one), dashes and parentheses dropped. ok
// is false when s is not a number (an alphanumeric sender, empty). It is
// the one normalisation of numbers in simlab: routing, the capture's
// filters, the control API's paths and the command line all use it.
func NormalizeNumber(s string) (digits string, ok bool) {
	if d := strings.TrimPrefix(s, "+"); isDigitString(d) && !(strings.HasPrefix(d, "00") && len(d) >= intl00Min) {
		return d, true // already normal: the common case, on every delivery
	}
	d := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '(' || r == ')' || r == '\t' {
			return -1
		}
		return r
	}, s)
	d = strings.TrimPrefix(d, "+")
	if strings.HasPrefix(d, "00") && len(d) >= intl00Min {
		d = d[2:]
	}
	if !isDigitString(d) {
		return "", false
	}
	return d, true
}

// NormalizeAddr is an address as the capture compares it: a number's
// digits (NormalizeNumber), anything else (an alphanumeric sender) with
// surrounding space trimmed.
func NormalizeAddr(s string) string {
	if d, ok := NormalizeNumber(s); ok {
		return d
	}
	return strings.TrimSpace(s)
}

// sameAddr reports whether the stored address addr is want, written either
// way (+99901000042, 99901000042, 0099901000042).
func sameAddr(addr, want string) bool {
	return addr == want || NormalizeAddr(addr) == NormalizeAddr(want)
}

func isDigitString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
