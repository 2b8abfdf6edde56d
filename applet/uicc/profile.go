package uicc

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"gopkg.in/yaml.v3"

	"github.com/simlab-dev/simlab/applet/ota"
	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/internal/yamlmsg"
)

// ErrProfile is wrapped by every error about a card profile.
var ErrProfile = errors.New("uicc: invalid profile")

// Profile describes one card: identities, PINs, OTA keysets, TARs and the
// applets it carries. Profiles are YAML files under fixtures/cards/ (format
// in docs/uicc.md). A Profile is read-only once a Card is made from it; the
// card keeps its own copy of what changes (PIN values, counters).
type Profile struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	// ATR overrides the default Answer To Reset (hex).
	ATR Hex `yaml:"atr,omitempty"`
	// ICCID is the card number, digits including the Luhn check digit
	// (ITU-T E.118), stored in EF_ICCID (TS 102 221 §13.2).
	ICCID string `yaml:"iccid"`
	// IMSI is the subscriber identity, 6 to 15 digits (3GPP TS 31.102 §4.2.2).
	IMSI string `yaml:"imsi"`
	// MSISDN is the subscriber's number in international form, "+999…",
	// stored in EF_MSISDN (3GPP TS 31.102 §4.2.26).
	MSISDN string `yaml:"msisdn"`
	// SPN is the service provider name (EF_SPN, TS 31.102 §4.2.12).
	SPN string `yaml:"spn,omitempty"`
	// SMSC is the service centre address in EF_SMSP (TS 31.102 §4.2.27).
	SMSC string `yaml:"smsc,omitempty"`
	// Languages are ISO 639 codes for EF_PL and EF_LI, most preferred first.
	Languages []string `yaml:"languages,omitempty"`
	// USIMAID is the USIM application identifier (default
	// A0000000871002FFFFFFFF8900000100; RID A000000087 = 3GPP, PIX 1002 = USIM).
	USIMAID Hex `yaml:"usim_aid,omitempty"`
	// PIN1 is the user PIN (key reference 01), PUK1 unblocks it, ADM1 (key
	// reference 0A) grants administrative access (TS 102 221 §9.5).
	PIN1 PIN `yaml:"pin1"`
	PUK1 PIN `yaml:"puk1"`
	ADM1 PIN `yaml:"adm1"`
	// Keysets are the OTA keysets (TS 102 225 §5.1.2), by key version number.
	Keysets []Keyset `yaml:"keysets,omitempty"`
	// Applets are the card's applications, addressed by TAR and/or AID.
	Applets []AppletProfile `yaml:"applets,omitempty"`

	// fs holds the file tree templates of the cards made from the
	// profile, shared with its Subscriber copies; nil in a profile not
	// made by ParseProfile, whose cards each build their own.
	fs *fsCache
}

// maxTemplates bounds the templates a parsed profile and its copies keep:
// copies whose shared contents differ (another SPN, SMSC, languages or
// AID) beyond that many build a tree for each card.
const maxTemplates = 8

// fsCache holds the fsTemplates of a profile and its copies, built on
// first use. Readers take the list without a lock; adding one is
// serialised.
type fsCache struct {
	mu sync.Mutex
	ts atomic.Pointer[[]*fsTemplate]
}

// find returns the template whose shared contents are what p makes, or nil.
func (c *fsCache) find(p *Profile) *fsTemplate {
	if ts := c.ts.Load(); ts != nil {
		for _, t := range *ts {
			if t.fits(p) {
				return t
			}
		}
	}
	return nil
}

// template returns the file tree template for a card made from p: the one
// p shares with the profile it was parsed as and that one's copies when
// its contents are what p makes, or a new one, kept for the next cards.
func (p *Profile) template() *fsTemplate {
	c := p.fs
	if c == nil {
		return newTemplate(p)
	}
	if t := c.find(p); t != nil {
		return t
	}
	t := newTemplate(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if u := c.find(p); u != nil { // another card built it meanwhile
		return u
	}
	var ts []*fsTemplate
	if old := c.ts.Load(); old != nil {
		ts = *old
	}
	if len(ts) < maxTemplates {
		ts = append(slices.Clip(ts), t)
		c.ts.Store(&ts)
	}
	return t
}

// PIN is a PIN, PUK or ADM code with its retry counter (TS 102 221 §9.5).
type PIN struct {
	// Value is 4 to 8 digits, sent to the card as ASCII padded with FF.
	Value string `yaml:"value"`
	// Enabled applies to PIN1: whether PIN verification is required
	// (default true).
	Enabled *bool `yaml:"enabled,omitempty"`
	// Retries is the retry counter's maximum: default 3 for PIN1, 10 for
	// PUK1 and ADM1.
	Retries int `yaml:"retries,omitempty"`
}

// String hides the value.
func (p PIN) String() string {
	return fmt.Sprintf("PIN(%d digits, %d retries)", len(p.Value), p.Retries)
}

// Keyset is one OTA keyset (TS 102 225 §5.1.2): the KIc and KID key
// references, addressed by the key index KVN in the KIc/KID bytes.
type Keyset struct {
	KVN int    `yaml:"kvn"`
	KIc KeyRef `yaml:"kic"`
	KID KeyRef `yaml:"kid"`
	// Counter is the initial replay counter CNTR.
	Counter uint64 `yaml:"counter,omitempty"`
}

// KeyRef names a key in the hsm.Keystore. "{iccid}" in Ref is replaced by
// the card's ICCID, so one profile can serve a fleet with diversified keys.
type KeyRef struct {
	Ref string `yaml:"ref"`
	// Algorithm is used when the KIc/KID byte says "implicit" and to type
	// imported demo keys: des-cbc, 3des-2key, 3des-3key, des-ecb, aes, crc16, crc32.
	Algorithm string `yaml:"algorithm"`
	// Value is demo key material (hex), imported by ImportKeys. Test and
	// demo profiles only: real keys live in the keystore.
	Value Hex `yaml:"value,omitempty"`
}

// String hides the key value.
func (k KeyRef) String() string { return fmt.Sprintf("key %s (%s)", k.Ref, k.Algorithm) }

// AppletProfile places an applet on the card. The applet named "rfm" is
// built in (remote file management, TS 102 226 §5 compact format); others
// are installed by the caller with Card.Install under the same name.
type AppletProfile struct {
	Name string `yaml:"name"`
	// AID makes the applet selectable with SELECT by DF name.
	AID Hex `yaml:"aid,omitempty"`
	// TARs address the applet from OTA secured packets.
	TARs []TARProfile `yaml:"tars,omitempty"`
	// Options are passed to the applet (Env.Option), e.g. pin_supported.
	Options map[string]string `yaml:"options,omitempty"`
}

// TARProfile is a TAR with its minimum security level (TS 102 226
// §8.2.1.3.2.4.2) and the keysets allowed to address it.
type TARProfile struct {
	TAR Hex `yaml:"tar"`
	// MSL is the minimum security level byte, coded as SPI1 (hex), e.g. 16
	// for CC + ciphering + counter higher.
	MSL Hex `yaml:"msl,omitempty"`
	// Keysets lists the KVNs that may address the TAR; empty means any.
	Keysets []int `yaml:"keysets,omitempty"`
}

// Hex is bytes written as a hex string in YAML.
type Hex []byte

// UnmarshalYAML implements yaml.Unmarshaler.
func (h *Hex) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		return fmt.Errorf("line %d: %q is not hex: %w", n.Line, s, err)
	}
	*h = b
	return nil
}

// MarshalYAML implements yaml.Marshaler.
func (h Hex) MarshalYAML() (any, error) { return strings.ToUpper(hex.EncodeToString(h)), nil }

// LoadProfile reads and validates a profile file.
func LoadProfile(path string) (*Profile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("uicc: %w", err)
	}
	p, err := ParseProfile(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// ParseProfile decodes and validates a YAML profile. Unknown fields are errors.
func ParseProfile(b []byte) (*Profile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrProfile, yamlmsg.Message(err))
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p.fs = new(fsCache)
	return &p, nil
}

func profErr(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrProfile, field, fmt.Sprintf(format, args...))
}

func digitsOnly(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Validate checks the profile and fills in defaults (retry counters, AID).
func (p *Profile) Validate() error {
	if !digitsOnly(p.ICCID) || len(p.ICCID) < 18 || len(p.ICCID) > 20 {
		return profErr("iccid", "want 18 to 20 digits, got %q", p.ICCID)
	}
	if !digitsOnly(p.IMSI) || len(p.IMSI) < 6 || len(p.IMSI) > 15 {
		return profErr("imsi", "want 6 to 15 digits, got %q", p.IMSI)
	}
	if m := strings.TrimPrefix(p.MSISDN, "+"); !digitsOnly(m) || len(m) > 20 {
		return profErr("msisdn", "want +digits (at most 20), got %q", p.MSISDN)
	}
	if p.SMSC != "" {
		if m := strings.TrimPrefix(p.SMSC, "+"); !digitsOnly(m) || len(m) > 20 {
			return profErr("smsc", "want +digits (at most 20), got %q", p.SMSC)
		}
	}
	if len(p.SPN) > 16 {
		return profErr("spn", "at most 16 characters")
	}
	for _, l := range p.Languages {
		if len(l) != 2 {
			return profErr("languages", "want 2-letter ISO 639 codes, got %q", l)
		}
	}
	if p.USIMAID == nil {
		p.USIMAID = Hex{0xA0, 0x00, 0x00, 0x00, 0x87, 0x10, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01, 0x00}
	}
	if len(p.USIMAID) < 5 || len(p.USIMAID) > 16 {
		return profErr("usim_aid", "want 5 to 16 bytes, got %d", len(p.USIMAID))
	}
	for _, c := range []struct {
		name string
		pin  *PIN
		def  int
	}{{"pin1", &p.PIN1, 3}, {"puk1", &p.PUK1, 10}, {"adm1", &p.ADM1, 10}} {
		if !digitsOnly(c.pin.Value) || len(c.pin.Value) < 4 || len(c.pin.Value) > 8 {
			return profErr(c.name+".value", "want 4 to 8 digits")
		}
		if c.pin.Retries == 0 {
			c.pin.Retries = c.def
		}
		if c.pin.Retries < 1 || c.pin.Retries > 15 {
			return profErr(c.name+".retries", "want 1 to 15, got %d", c.pin.Retries)
		}
	}
	if len(p.PUK1.Value) != 8 {
		return profErr("puk1.value", "want 8 digits")
	}
	seen := map[int]bool{}
	for i, k := range p.Keysets {
		// f names a field of the keyset in an error, built only then.
		f := func(field string) string { return fmt.Sprintf("keysets[%d].%s", i, field) }
		if k.KVN < 1 || k.KVN > 15 || seen[k.KVN] {
			return profErr(f("kvn"), "want a unique key version number 1..15, got %d", k.KVN)
		}
		seen[k.KVN] = true
		for _, kr := range []struct {
			n string
			r KeyRef
		}{{"kic", k.KIc}, {"kid", k.KID}} {
			if kr.r.Ref == "" && kr.r.Algorithm == "" {
				continue
			}
			if kr.r.Ref == "" {
				return profErr(f(kr.n+".ref"), "missing")
			}
			a, err := ota.ParseAlgorithm(kr.r.Algorithm)
			if err != nil {
				return profErr(f(kr.n+".algorithm"), "%v", err)
			}
			if kr.r.Value != nil {
				if _, err := ota.KeyType(a, len(kr.r.Value)); err != nil {
					return profErr(f(kr.n+".value"), "%v", err)
				}
			}
		}
		if k.Counter > ota.MaxCounter {
			return profErr(f("counter"), "above 2^40-1")
		}
	}
	names := map[string]bool{}
	tars := map[string]bool{}
	for i, a := range p.Applets {
		f := func(field string) string { return fmt.Sprintf("applets[%d].%s", i, field) }
		if a.Name == "" || names[a.Name] {
			return profErr(f("name"), "want a unique name, got %q", a.Name)
		}
		names[a.Name] = true
		if a.AID != nil && (len(a.AID) < 5 || len(a.AID) > 16) {
			return profErr(f("aid"), "want 5 to 16 bytes")
		}
		for j, t := range a.TARs {
			g := func(field string) string { return fmt.Sprintf("applets[%d].tars[%d].%s", i, j, field) }
			if len(t.TAR) != 3 {
				return profErr(g("tar"), "want 3 bytes, got %d", len(t.TAR))
			}
			if tars[string(t.TAR)] {
				return profErr(g("tar"), "TAR %X used twice", []byte(t.TAR))
			}
			tars[string(t.TAR)] = true
			if len(t.MSL) > 1 {
				return profErr(g("msl"), "want one byte")
			}
			for _, kvn := range t.Keysets {
				if !seen[kvn] {
					return profErr(g("keysets"), "no keyset with kvn %d", kvn)
				}
			}
		}
	}
	return nil
}

// Subscriber returns a copy of p for the n-th card of a fleet built from
// it: n is added to the ICCID (whose Luhn digit is recomputed), the IMSI and
// the MSISDN, keeping their lengths. It fails when a number overflows.
func (p *Profile) Subscriber(n uint64) (*Profile, error) {
	q := *p
	var err error
	body := p.ICCID[:len(p.ICCID)-1]
	if body, err = addDigits(body, n); err != nil {
		return nil, profErr("iccid", "%v", err)
	}
	q.ICCID = body + string(rune('0'+luhn(body)))
	if q.IMSI, err = addDigits(p.IMSI, n); err != nil {
		return nil, profErr("imsi", "%v", err)
	}
	plus := strings.HasPrefix(p.MSISDN, "+")
	m, err := addDigits(strings.TrimPrefix(p.MSISDN, "+"), n)
	if err != nil {
		return nil, profErr("msisdn", "%v", err)
	}
	if plus {
		m = "+" + m
	}
	q.MSISDN = m
	return &q, nil
}

// addDigits adds n to the decimal number s keeping its width.
func addDigits(s string, n uint64) (string, error) {
	b := []byte(s)
	carry := n
	for i := len(b) - 1; i >= 0 && carry > 0; i-- {
		v := uint64(b[i]-'0') + carry%10
		carry /= 10
		if v >= 10 {
			v -= 10
			carry++
		}
		b[i] = byte('0' + v)
	}
	if carry > 0 {
		return "", fmt.Errorf("%s + %d does not fit in %d digits", s, n, len(s))
	}
	return string(b), nil
}

// luhn returns the Luhn check digit for the digits s (ITU-T E.118 annex A).
func luhn(s string) int {
	sum := 0
	double := true
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return (10 - sum%10) % 10
}

// LuhnValid reports whether the last digit of s is its Luhn check digit.
func LuhnValid(s string) bool {
	return digitsOnly(s) && len(s) > 1 && luhn(s[:len(s)-1]) == int(s[len(s)-1]-'0')
}

// keyRef returns the reference with {iccid} expanded.
func (p *Profile) keyRef(r KeyRef) string { return strings.ReplaceAll(r.Ref, "{iccid}", p.ICCID) }

// ImportKeys imports the demo key material of p's keysets (KeyRef.Value)
// into ks under their references. Keys that already exist are left alone.
// Test and demo use only.
func (p *Profile) ImportKeys(ctx context.Context, ks hsm.Keystore) error {
	for _, k := range p.Keysets {
		for _, r := range []KeyRef{k.KIc, k.KID} {
			if r.Value == nil {
				continue
			}
			a, err := ota.ParseAlgorithm(r.Algorithm)
			if err != nil {
				return profErr("keysets", "%v", err)
			}
			typ, err := ota.KeyType(a, len(r.Value))
			if err != nil {
				return profErr("keysets", "%v", err)
			}
			ref := p.keyRef(r)
			if err := ks.Import(ctx, ref, typ, r.Value); err != nil && !errors.Is(err, hsm.ErrExists) {
				return fmt.Errorf("uicc: importing key %s for kvn %d: %w", ref, k.KVN, err)
			}
		}
	}
	return nil
}

// Option returns an applet option as a bool ("true", "1", "yes").
func parseBoolOption(v string) bool {
	b, err := strconv.ParseBool(v)
	return err == nil && b || v == "yes"
}
