package mobileconnect

import (
	"strconv"
	"unicode/utf8"
)

// appendClaims appends the id_token claim set c as JSON: byte for byte
// what json.Marshal makes of it (the members in the struct's order, the
// same omitempty, strings escaped as encoding/json escapes them, HTML's
// characters included), provided c.UPK is compact JSON holding none of
// '<', '>', '&', U+2028 and U+2029 (json.Marshal compacts a RawMessage
// and escapes those in it; here it is copied as it is), as ecJWK writes
// it. Written by hand because encoding/json's reflection over the
// struct's nineteen fields cost about as much as the rest of the claims'
// work together: 4.4-6.3 µs a claim set against 0.4-0.9 µs here
// (BenchmarkClaimsJSON, docs/benchmarks.md (aa)). TestAppendClaims holds
// it to json.Marshal over many claim sets, with every field of the
// struct filled by reflection, so a field added to idClaims and not here
// fails the test.
func appendClaims(b []byte, c *idClaims) []byte {
	b = append(b, `{"iss":`...)
	b = appendJSONString(b, c.Iss)
	b = append(b, `,"aud":`...)
	b = appendJSONString(b, c.Aud)
	b = append(b, `,"azp":`...)
	b = appendJSONString(b, c.Azp)
	b = append(b, `,"sub":`...)
	b = appendJSONString(b, c.Sub)
	if c.ACR != "" {
		b = append(b, `,"acr":`...)
		b = appendJSONString(b, c.ACR)
	}
	b = append(b, `,"amr":`...)
	if c.AMR == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, m := range c.AMR {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, m)
		}
		b = append(b, ']')
	}
	b = append(b, `,"auth_time":`...)
	b = strconv.AppendInt(b, c.AuthTime, 10)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, c.Iat, 10)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, c.Exp, 10)
	b = append(b, `,"jti":`...)
	b = appendJSONString(b, c.JTI)
	b = appendOptString(b, `,"nonce":`, c.Nonce)
	b = appendOptString(b, `,"at_hash":`, c.AtHash)
	b = appendOptString(b, `,"hashed_login_hint":`, c.HashedHint)
	if d := c.DisplayedData; d != nil {
		b = append(b, `,"displayed_data":{"client_name":`...)
		b = appendJSONString(b, d.ClientName)
		b = appendOptString(b, `,"binding_message":`, d.BindingMessage)
		b = appendOptString(b, `,"context":`, d.Context)
		b = append(b, '}')
	}
	b = appendOptString(b, `,"dts":`, c.DTS)
	if c.DTSTime != nil {
		b = append(b, `,"dts_time":`...)
		b = strconv.AppendInt(b, *c.DTSTime, 10)
	}
	if len(c.UPK) > 0 {
		b = append(b, `,"upk":`...)
		b = append(b, c.UPK...)
	}
	b = appendOptString(b, `,"recipient":`, c.Recipient)
	b = appendOptString(b, `,"urn:openid:params:jwt:claim:auth_req_id":`, c.CIBAAuthReqID)
	return append(b, '}')
}

// appendOptString appends the member name (with its comma and colon) and
// s, unless s is empty (omitempty).
func appendOptString(b []byte, name, s string) []byte {
	if s == "" {
		return b
	}
	return appendJSONString(append(b, name...), s)
}

// jsonSafe marks the ASCII bytes a JSON string holds as they are.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s as a JSON string escaped as encoding/json
// escapes it with HTML escaping on (json.Marshal's default): '"', '\\'
// and the short escapes \b \f \n \r \t; other control characters and
// '<', '>', '&' as \u00XX in lowercase hex; U+2028 and U+2029 as \u2028
// and \u2029; each byte of invalid UTF-8 as \ufffd.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
