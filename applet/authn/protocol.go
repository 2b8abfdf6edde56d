// Package authn is simlab's authenticator applet: the SIM-side half of a
// Mobile Connect style push challenge. This file is the wire protocol shared
// by the applet (card side) and every sender of challenges (simlab push, the
// load generator, a system under test): the challenge and response data
// objects that travel inside TS 102 225 secured packets, and the bytes the
// card signs. docs/applet-protocol.md is its specification.
package authn

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/simlab-dev/simlab/applet/tlv"
)

// DefaultTAR is the Toolkit Application Reference of the authenticator
// applet in simlab's card profiles (ASCII "SLA", simlab authenticator); profiles may set another.
var DefaultTAR = [3]byte{0x53, 0x4C, 0x41}

// Version is the protocol version this package speaks.
const Version = 1

// Template tags of the challenge and the response.
const (
	TagChallenge tlv.BERTag = 0xA0
	TagResponse  tlv.BERTag = 0xA1
)

// Data object tags inside the challenge (A0) template.
const (
	TagVersion        tlv.BERTag = 0x80 // 1 byte, mandatory
	TagTransactionID  tlv.BERTag = 0x81 // 1..16 bytes, mandatory
	TagLoA            tlv.BERTag = 0x82 // 1 byte: 02, 03 or 32; mandatory
	TagClientName     tlv.BERTag = 0x83 // UTF-8, 1..MaxClientName bytes, mandatory
	TagBindingMessage tlv.BERTag = 0x84 // UTF-8, optional
	TagContext        tlv.BERTag = 0x85 // UTF-8, optional
	TagNonce          tlv.BERTag = 0x86 // 8..32 bytes, mandatory
	TagReplyAddress   tlv.BERTag = 0x87 // TS 23.040 §9.1.2.5 address, optional
	TagTimeout        tlv.BERTag = 0x88 // 2 bytes, seconds, optional
	TagOptions        tlv.BERTag = 0x89 // 1 byte of flags, optional
)

// Data object tags inside the response (A1) template.
const (
	TagOutcome     tlv.BERTag = 0x82 // 1 byte, mandatory
	TagAchievedLoA tlv.BERTag = 0x83 // 1 byte, mandatory (00 unless approved)
	TagTriesLeft   tlv.BERTag = 0x84 // 1 byte, optional
	TagDTSTime     tlv.BERTag = 0x85 // 4 bytes, Unix seconds, mandatory
	TagUPK         tlv.BERTag = 0x87 // 33 bytes, compressed P-256 point, when asked
	TagSignature   tlv.BERTag = 0x8A // 64 bytes r‖s, mandatory, last
)

// Limits of the challenge's fields.
const (
	MaxClientName    = 40
	MaxBindingTexts  = 93 // binding_message + context together, bytes
	MinNonce         = 8
	MaxNonce         = 32
	MaxTransactionID = 16
	// OptionUPK asks the card to return its public key (upk).
	OptionUPK = 0x01
)

// LoA is a requested Level of Assurance.
type LoA byte

// Requested levels: OK on the SIM (2), PIN on the SIM (3), and PIN with
// fallback to OK on cards without PIN support ("3 2" in acr_values).
const (
	LoA2          LoA = 0x02
	LoA3          LoA = 0x03
	LoA3Fallback2 LoA = 0x32
)

func (l LoA) String() string {
	switch l {
	case LoA2:
		return "2"
	case LoA3:
		return "3"
	case LoA3Fallback2:
		return "3,2"
	case 0:
		return "none"
	}
	return fmt.Sprintf("LoA(%#02x)", byte(l))
}

// ParseLoA reads "2", "3" or "3,2" (also "3 2").
func ParseLoA(s string) (LoA, error) {
	switch s {
	case "2":
		return LoA2, nil
	case "3":
		return LoA3, nil
	case "3,2", "3 2":
		return LoA3Fallback2, nil
	}
	return 0, fmt.Errorf("authn: LoA %q: want 2, 3 or 3,2", s)
}

// Outcome is what became of a challenge on the card.
type Outcome byte

// Outcomes (docs/applet-protocol.md, "Outcomes").
const (
	Approved        Outcome = 0x00
	Cancelled       Outcome = 0x01 // the user declined (TR 10 or 11)
	Timeout         Outcome = 0x02 // no answer in time (TR 12 or the prompt timeout)
	WrongPIN        Outcome = 0x03 // TriesLeft says how many remain
	PINBlocked      Outcome = 0x04
	PINNotSupported Outcome = 0x05 // LoA 3 asked of a card without PIN
	Busy            Outcome = 0x06 // the terminal could not show the prompt (TR 20 01) or a session was running
	SIMError        Outcome = 0x07 // the applet failed internally
	InvalidRequest  Outcome = 0x08 // the challenge did not parse or broke a limit (texts over 93 bytes)
)

var outcomeNames = map[Outcome]string{
	Approved: "approved", Cancelled: "cancelled", Timeout: "timeout", WrongPIN: "wrong_pin",
	PINBlocked: "pin_blocked", PINNotSupported: "pin_not_supported", Busy: "busy",
	SIMError: "sim_error", InvalidRequest: "invalid_request",
}

// String gives the outcome's name as `simlab push --json` prints it.
func (o Outcome) String() string {
	if s, ok := outcomeNames[o]; ok {
		return s
	}
	return fmt.Sprintf("outcome(%#02x)", byte(o))
}

// Challenge is the request the SUT sends to the applet.
type Challenge struct {
	TransactionID  []byte
	LoA            LoA
	ClientName     string
	BindingMessage string
	Context        string
	Nonce          []byte
	// ReplyAddress is the TS 23.040 address field (length in digits,
	// TON/NPI, BCD) of the SMS the response goes to; empty means the
	// originating address of the challenge's SMS.
	ReplyAddress []byte
	// TimeoutSeconds bounds the prompt; 0 leaves it to the terminal.
	TimeoutSeconds uint16
	// WantUPK asks for the card's public key in the response.
	WantUPK bool
}

// Response is the applet's answer.
type Response struct {
	TransactionID []byte
	Outcome       Outcome
	AchievedLoA   LoA
	// TriesLeft is the PIN tries left; HasTriesLeft says whether the card
	// sent it (it does after any PIN entry and for PIN blocked).
	TriesLeft    byte
	HasTriesLeft bool
	// DTSTime is when the card answered, Unix seconds.
	DTSTime uint32
	// UPK is the card's public key, compressed SEC 1 form, when asked.
	UPK []byte
	// Signature is ECDSA P-256 over SignedDigest, r‖s, 32 bytes each.
	Signature []byte
}

// Errors of the codec.
var (
	ErrMalformed   = errors.New("authn: malformed data")
	ErrLimit       = errors.New("authn: field over its limit")
	ErrVersion     = errors.New("authn: unsupported protocol version")
	ErrMissing     = errors.New("authn: mandatory field missing")
	ErrUnsignedLen = errors.New("authn: signature must be 64 bytes")
)

// Validate checks the challenge against the protocol's limits.
func (c *Challenge) Validate() error {
	switch {
	case len(c.TransactionID) == 0 || len(c.TransactionID) > MaxTransactionID:
		return fmt.Errorf("%w: transaction id is %d bytes, want 1..%d", ErrLimit, len(c.TransactionID), MaxTransactionID)
	case c.LoA != LoA2 && c.LoA != LoA3 && c.LoA != LoA3Fallback2:
		return fmt.Errorf("%w: LoA %#02x", ErrLimit, byte(c.LoA))
	case len(c.ClientName) == 0 || len(c.ClientName) > MaxClientName:
		return fmt.Errorf("%w: client_name is %d bytes, want 1..%d", ErrLimit, len(c.ClientName), MaxClientName)
	case len(c.BindingMessage)+len(c.Context) > MaxBindingTexts:
		return fmt.Errorf("%w: binding_message and context are %d bytes together, at most %d", ErrLimit, len(c.BindingMessage)+len(c.Context), MaxBindingTexts)
	case len(c.Nonce) < MinNonce || len(c.Nonce) > MaxNonce:
		return fmt.Errorf("%w: nonce is %d bytes, want %d..%d", ErrLimit, len(c.Nonce), MinNonce, MaxNonce)
	case !utf8.ValidString(c.ClientName) || !utf8.ValidString(c.BindingMessage) || !utf8.ValidString(c.Context):
		return fmt.Errorf("%w: texts must be UTF-8", ErrMalformed)
	}
	return nil
}

// AppendChallenge appends the encoded challenge (the A0 template) to dst.
// It does not validate: use Validate first when the input is untrusted.
func AppendChallenge(dst []byte, c *Challenge) []byte {
	return tlv.AppendBERFunc(dst, TagChallenge, func(b []byte) []byte {
		b = tlv.AppendBER(b, TagVersion, []byte{Version})
		b = tlv.AppendBER(b, TagTransactionID, c.TransactionID)
		b = tlv.AppendBER(b, TagLoA, []byte{byte(c.LoA)})
		b = tlv.AppendBER(b, TagClientName, []byte(c.ClientName))
		if c.BindingMessage != "" {
			b = tlv.AppendBER(b, TagBindingMessage, []byte(c.BindingMessage))
		}
		if c.Context != "" {
			b = tlv.AppendBER(b, TagContext, []byte(c.Context))
		}
		b = tlv.AppendBER(b, TagNonce, c.Nonce)
		if len(c.ReplyAddress) > 0 {
			b = tlv.AppendBER(b, TagReplyAddress, c.ReplyAddress)
		}
		if c.TimeoutSeconds != 0 {
			b = tlv.AppendBER(b, TagTimeout, binary.BigEndian.AppendUint16(nil, c.TimeoutSeconds))
		}
		if c.WantUPK {
			b = tlv.AppendBER(b, TagOptions, []byte{OptionUPK})
		}
		return b
	})
}

// ParseChallenge decodes a challenge template from the start of b and
// returns it with the exact template bytes (what the signature covers).
// Unknown data objects inside the template are skipped, so later versions
// can add optional fields. The result aliases b.
func ParseChallenge(b []byte) (c Challenge, raw []byte, err error) {
	obj, rest, err := tlv.ParseBER(b)
	if err != nil {
		return c, nil, fmt.Errorf("%w: challenge: %w", ErrMalformed, err)
	}
	if obj.Tag != TagChallenge {
		return c, nil, fmt.Errorf("%w: challenge template at offset 0 has tag %s, want A0", ErrMalformed, obj.Tag)
	}
	raw = b[:len(b)-len(rest)]
	var seen uint32
	v := obj.Value
	for len(v) > 0 {
		off := len(obj.Value) - len(v)
		var o tlv.BER
		o, v, err = tlv.ParseBER(v)
		if err != nil {
			return c, nil, fmt.Errorf("%w: challenge data object at offset %d: %w", ErrMalformed, off, err)
		}
		if o.Tag >= 0x80 && o.Tag <= 0x9F {
			seen |= 1 << (o.Tag - 0x80)
		}
		switch o.Tag {
		case TagVersion:
			if len(o.Value) != 1 {
				return c, nil, fmt.Errorf("%w: version at offset %d is %d bytes, want 1", ErrMalformed, off, len(o.Value))
			}
			if o.Value[0] != Version {
				return c, nil, fmt.Errorf("%w: %d", ErrVersion, o.Value[0])
			}
		case TagTransactionID:
			c.TransactionID = o.Value
		case TagLoA:
			if len(o.Value) != 1 {
				return c, nil, fmt.Errorf("%w: LoA at offset %d is %d bytes, want 1", ErrMalformed, off, len(o.Value))
			}
			c.LoA = LoA(o.Value[0])
		case TagClientName:
			c.ClientName = string(o.Value)
		case TagBindingMessage:
			c.BindingMessage = string(o.Value)
		case TagContext:
			c.Context = string(o.Value)
		case TagNonce:
			c.Nonce = o.Value
		case TagReplyAddress:
			c.ReplyAddress = o.Value
		case TagTimeout:
			if len(o.Value) != 2 {
				return c, nil, fmt.Errorf("%w: timeout at offset %d is %d bytes, want 2", ErrMalformed, off, len(o.Value))
			}
			c.TimeoutSeconds = binary.BigEndian.Uint16(o.Value)
		case TagOptions:
			if len(o.Value) != 1 {
				return c, nil, fmt.Errorf("%w: options at offset %d is %d bytes, want 1", ErrMalformed, off, len(o.Value))
			}
			c.WantUPK = o.Value[0]&OptionUPK != 0
		}
	}
	for _, m := range []struct {
		tag  tlv.BERTag
		name string
	}{{TagVersion, "version"}, {TagTransactionID, "transaction id"}, {TagLoA, "LoA"}, {TagClientName, "client_name"}, {TagNonce, "nonce"}} {
		if seen&(1<<(m.tag-0x80)) == 0 {
			return c, nil, fmt.Errorf("%w: %s", ErrMissing, m.name)
		}
	}
	return c, raw, nil
}

// appendResponseBody appends the response's data objects that the
// signature covers (everything but the signature itself).
func appendResponseBody(b []byte, r *Response) []byte {
	b = tlv.AppendBER(b, TagVersion, []byte{Version})
	b = tlv.AppendBER(b, TagTransactionID, r.TransactionID)
	b = tlv.AppendBER(b, TagOutcome, []byte{byte(r.Outcome)})
	b = tlv.AppendBER(b, TagAchievedLoA, []byte{byte(r.AchievedLoA)})
	if r.HasTriesLeft {
		b = tlv.AppendBER(b, TagTriesLeft, []byte{r.TriesLeft})
	}
	b = tlv.AppendBER(b, TagDTSTime, binary.BigEndian.AppendUint32(nil, r.DTSTime))
	if len(r.UPK) > 0 {
		b = tlv.AppendBER(b, TagUPK, r.UPK)
	}
	return b
}

// signedPrefix starts the bytes the card signs, so a signature can never be
// replayed as one over other simlab data.
const signedPrefix = "simlab-authn-v1"

// SignedDigest is what the card signs: SHA-256 over the ASCII string
// "simlab-authn-v1", the challenge template exactly as received (tag A0
// included), and the response's data objects before the signature in the
// order AppendResponse writes them.
func SignedDigest(challengeRaw []byte, r *Response) [32]byte {
	h := sha256.New()
	h.Write([]byte(signedPrefix))
	h.Write(challengeRaw)
	h.Write(appendResponseBody(nil, r))
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// AppendResponse appends the encoded response (the A1 template, signature
// last) to dst.
func AppendResponse(dst []byte, r *Response) []byte {
	return tlv.AppendBERFunc(dst, TagResponse, func(b []byte) []byte {
		b = appendResponseBody(b, r)
		return tlv.AppendBER(b, TagSignature, r.Signature)
	})
}

// ParseResponse decodes a response template from the start of b. The
// result aliases b.
func ParseResponse(b []byte) (r Response, err error) {
	obj, _, err := tlv.ParseBER(b)
	if err != nil {
		return r, fmt.Errorf("%w: response: %w", ErrMalformed, err)
	}
	if obj.Tag != TagResponse {
		return r, fmt.Errorf("%w: response template at offset 0 has tag %s, want A1", ErrMalformed, obj.Tag)
	}
	var haveOutcome, haveTime, haveID bool
	v := obj.Value
	for len(v) > 0 {
		off := len(obj.Value) - len(v)
		var o tlv.BER
		o, v, err = tlv.ParseBER(v)
		if err != nil {
			return r, fmt.Errorf("%w: response data object at offset %d: %w", ErrMalformed, off, err)
		}
		one := func(name string) (byte, error) {
			if len(o.Value) != 1 {
				return 0, fmt.Errorf("%w: %s at offset %d is %d bytes, want 1", ErrMalformed, name, off, len(o.Value))
			}
			return o.Value[0], nil
		}
		var x byte
		switch o.Tag {
		case TagVersion:
			if x, err = one("version"); err != nil {
				return r, err
			}
			if x != Version {
				return r, fmt.Errorf("%w: %d", ErrVersion, x)
			}
		case TagTransactionID:
			r.TransactionID, haveID = o.Value, true
		case TagOutcome:
			if x, err = one("outcome"); err != nil {
				return r, err
			}
			r.Outcome, haveOutcome = Outcome(x), true
		case TagAchievedLoA:
			if x, err = one("achieved LoA"); err != nil {
				return r, err
			}
			r.AchievedLoA = LoA(x)
		case TagTriesLeft:
			if r.TriesLeft, err = one("tries left"); err != nil {
				return r, err
			}
			r.HasTriesLeft = true
		case TagDTSTime:
			if len(o.Value) != 4 {
				return r, fmt.Errorf("%w: dts_time at offset %d is %d bytes, want 4", ErrMalformed, off, len(o.Value))
			}
			r.DTSTime, haveTime = binary.BigEndian.Uint32(o.Value), true
		case TagUPK:
			r.UPK = o.Value
		case TagSignature:
			if len(o.Value) != 64 {
				return r, fmt.Errorf("%w at offset %d (got %d)", ErrUnsignedLen, off, len(o.Value))
			}
			r.Signature = o.Value
		}
	}
	switch {
	case !haveID:
		return r, fmt.Errorf("%w: transaction id", ErrMissing)
	case !haveOutcome:
		return r, fmt.Errorf("%w: outcome", ErrMissing)
	case !haveTime:
		return r, fmt.Errorf("%w: dts_time", ErrMissing)
	case r.Signature == nil:
		return r, fmt.Errorf("%w: signature", ErrMissing)
	}
	return r, nil
}
