// Package pkcs11 is the hsm.Keystore backend for PKCS#11 tokens (real HSMs;
// SoftHSM2 in CI), built on github.com/miekg/pkcs11. It needs cgo: without
// it Open returns "built without PKCS#11 support" and Supported is false.
//
// A store is named by an RFC 7512 URI, for example
//
//	pkcs11:token=test?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/secrets/pin
//
// Keys are token objects addressed by CKA_LABEL.
package pkcs11

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/simlab-dev/simlab/hsm"
)

// Environment variables consulted when a URI leaves something out.
const (
	// PINEnv holds the user PIN when the URI has neither pin-value nor
	// pin-source.
	PINEnv = "SIMLAB_PKCS11_PIN"
	// ModuleEnv holds the module path when the URI has no module-path.
	ModuleEnv = "SIMLAB_PKCS11_MODULE"
)

// DefaultModule is Debian's SoftHSM2 module, used when neither the URI nor
// $SIMLAB_PKCS11_MODULE names one.
const DefaultModule = "/usr/lib/softhsm/libsofthsm2.so"

// ErrURI reports a malformed or unsupported pkcs11: URI.
var ErrURI = errors.New("pkcs11: bad URI")

// URI is a parsed RFC 7512 PKCS#11 URI as simlab uses it to name a token.
type URI struct {
	// Token selection (RFC 7512 §2.3 path attributes); empty matches any.
	Token, Manufacturer, Serial, Model string
	// SlotID selects a slot by number when HasSlotID is set.
	SlotID    uint
	HasSlotID bool
	// Object, when set, is a label prefix: the store sees only token
	// objects whose CKA_LABEL starts with it, and stores keys as
	// Object+label (a simlab extension: in RFC 7512 "object" names one key).
	Object string
	// ModulePath is the PKCS#11 library (query attribute module-path).
	ModulePath string
	// PIN is the user PIN from pin-value, pin-source or $SIMLAB_PKCS11_PIN.
	// It is never printed: String redacts it.
	PIN string
	// PINSource is where PIN came from ("file:…", "env:…", "pin-value").
	PINSource string
	// MaxSessions bounds the session pool (query attribute
	// max-sessions, a simlab extension; default 8).
	MaxSessions int
}

// ParseURI parses a pkcs11: URI (RFC 7512 §2.3). Path attributes: token,
// manufacturer, serial, model, slot-id, object (others are accepted and
// ignored, as §2.3 allows for unknown ones). Query attributes: module-path,
// pin-value, pin-source (file:PATH, or env:NAME as a simlab extension),
// max-sessions. The PIN is resolved here, from pin-value, pin-source or
// $SIMLAB_PKCS11_PIN; the module from module-path, $SIMLAB_PKCS11_MODULE or
// DefaultModule.
func ParseURI(s string) (URI, error) {
	rest, ok := strings.CutPrefix(s, "pkcs11:")
	if !ok {
		return URI{}, fmt.Errorf("%w: does not start with \"pkcs11:\"", ErrURI)
	}
	var u URI
	path, query, _ := strings.Cut(rest, "?")
	if path != "" {
		for i, attr := range strings.Split(path, ";") {
			name, raw, ok := strings.Cut(attr, "=")
			if !ok {
				return URI{}, fmt.Errorf("%w: path attribute %d (%q) has no '='", ErrURI, i+1, name)
			}
			v, err := unescape(raw)
			if err != nil {
				return URI{}, fmt.Errorf("%w: path attribute %s is badly escaped", ErrURI, name)
			}
			switch name {
			case "token":
				u.Token = v
			case "manufacturer":
				u.Manufacturer = v
			case "serial":
				u.Serial = v
			case "model":
				u.Model = v
			case "slot-id":
				n, err := strconv.ParseUint(v, 10, 64)
				if err != nil {
					return URI{}, fmt.Errorf("%w: slot-id %q is not a number", ErrURI, v)
				}
				u.SlotID, u.HasSlotID = uint(n), true
			case "object":
				u.Object = v
			}
		}
	}
	pinValue, pinSource := "", ""
	if query != "" {
		for _, attr := range strings.Split(query, "&") {
			name, raw, ok := strings.Cut(attr, "=")
			if !ok {
				return URI{}, fmt.Errorf("%w: query attribute %q has no '='", ErrURI, name)
			}
			v, err := unescape(raw)
			if err != nil {
				return URI{}, fmt.Errorf("%w: query attribute %s is badly escaped", ErrURI, name)
			}
			switch name {
			case "module-path":
				u.ModulePath = v
			case "pin-value":
				pinValue = v
			case "pin-source":
				pinSource = v
			case "max-sessions":
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > 1024 {
					return URI{}, fmt.Errorf("%w: max-sessions %q (want 1..1024)", ErrURI, v)
				}
				u.MaxSessions = n
			case "module-name":
				return URI{}, fmt.Errorf("%w: module-name is not supported, give module-path", ErrURI)
			}
		}
	}
	if pinValue != "" && pinSource != "" {
		return URI{}, fmt.Errorf("%w: both pin-value and pin-source given", ErrURI)
	}
	switch {
	case pinValue != "":
		u.PIN, u.PINSource = pinValue, "pin-value"
	case pinSource != "":
		if !strings.Contains(pinSource, ":") { // RFC 7512: a bare path is a file
			pinSource = "file:" + pinSource
		}
		b, err := hsm.ReadSecret(pinSource)
		if err != nil {
			return URI{}, err
		}
		u.PIN, u.PINSource = string(b), pinSource
	default:
		if v := os.Getenv(PINEnv); v != "" {
			u.PIN, u.PINSource = v, "env:"+PINEnv
		}
	}
	if u.ModulePath == "" {
		u.ModulePath = os.Getenv(ModuleEnv)
	}
	if u.ModulePath == "" {
		u.ModulePath = DefaultModule
	}
	if u.MaxSessions == 0 {
		u.MaxSessions = 8
	}
	return u, nil
}

// String describes u without its PIN.
func (u URI) String() string {
	var b strings.Builder
	b.WriteString("pkcs11:")
	var attrs []string
	add := func(name, v string) {
		if v != "" {
			attrs = append(attrs, name+"="+escape(v, pathReserved))
		}
	}
	add("token", u.Token)
	add("manufacturer", u.Manufacturer)
	add("serial", u.Serial)
	add("model", u.Model)
	if u.HasSlotID {
		attrs = append(attrs, "slot-id="+strconv.FormatUint(uint64(u.SlotID), 10))
	}
	add("object", u.Object)
	b.WriteString(strings.Join(attrs, ";"))
	b.WriteString("?module-path=" + escape(u.ModulePath, queryReserved))
	if u.PINSource != "" && u.PINSource != "pin-value" {
		b.WriteString("&pin-source=" + escape(u.PINSource, queryReserved))
	} else if u.PINSource == "pin-value" {
		b.WriteString("&pin-value=***")
	}
	return b.String()
}

// unescape decodes an attribute value of a PKCS#11 URI. RFC 7512 §2.3 has
// percent-encoding only: a "+" is a plus sign, not a space as in HTML form
// encoding (url.QueryUnescape), so a PIN "12+34" reaches the token as is.
// url.PathUnescape applies exactly the RFC 3986 rule.
func unescape(s string) (string, error) { return url.PathUnescape(s) }

// Characters that RFC 7512 §2.3 lets stand unescaped in a value besides
// the unreserved ones (pk11-path-res-avail and pk11-query-res-avail).
const (
	pathReserved  = ":[]@!$'()*+,=&"
	queryReserved = ":[]@!$'()*+,=/?|"
)

// escape percent-encodes v for a PKCS#11 URI attribute value: unreserved
// characters (RFC 3986 §2.3) and those in reserved stay, every other byte
// becomes %XX. net/url has no encoder for this set: QueryEscape writes a
// space as "+", which RFC 7512 readers take literally, and PathEscape
// escapes "/" in module paths.
func escape(v, reserved string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', strings.IndexByte(reserved, c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0x0F])
		}
	}
	return b.String()
}
