package fleet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/applet/uicc"
	"github.com/simlab-dev/simlab/simulator/person"
)

// recordVersion is the version of the records this simlab writes and
// reads: a record of another version is refused (ErrRecord), never
// guessed at.
const recordVersion = 1

// ErrRecord is wrapped by the error a phone's stored record gives when it
// cannot be used: damaged, or written by a simlab with another record
// version. The phone then cannot be used until it is reset (DELETE
// /api/v1/phones/{msisdn} forgets the record).
var ErrRecord = errors.New("fleet: stored phone state cannot be used")

// record is what the fleet keeps of a phone that is not in memory
// (docs/fleet.md, "What is kept"): only what differs from the phone the
// plan makes. It is JSON, one per number, in a Store.
type record struct {
	V int `json:"v"`
	// Spec is what the API set: the applet PIN the card holds, PIN
	// support, NFC, absent.
	Spec *Spec `json:"spec,omitempty"`
	// Behaviour is the person's script when set over the API (the phone
	// is then "scripted").
	Behaviour *person.Behaviour `json:"behaviour,omitempty"`
	// Position is where the person is in its behaviour.
	Position *person.Position `json:"position,omitempty"`
	// PINTries is the applet PIN's tries left when not as the plan makes
	// it (0: blocked).
	PINTries *int `json:"pin_tries,omitempty"`
	// Card is the SIM's own state: OTA replay counters by keyset, and
	// PIN1/PUK1/ADM1 when changed (uicc.State).
	Card *uicc.State `json:"card,omitempty"`
}

// empty reports whether r says nothing the plan does not: the phone needs
// no record.
func (r *record) empty() bool {
	return r.Spec == nil && r.Behaviour == nil && r.Position == nil && r.PINTries == nil && r.Card == nil
}

// listed reports whether the API changed the phone: GET /api/v1/phones
// lists it even when it is not in memory.
func (r *record) listed() bool { return r.Spec != nil || r.Behaviour != nil }

// encode returns r as stored.
func (r *record) encode() []byte {
	r.V = recordVersion
	b, err := json.Marshal(r)
	if err != nil {
		panic(fmt.Sprintf("fleet: encode record: %v", err)) // plain data: cannot fail
	}
	return b
}

// decodeRecord reads a stored record. A record of another version, one
// that is not a JSON object of known fields, or one whose fields are out
// of range is an error wrapping ErrRecord; the error never shows a PIN.
func decodeRecord(b []byte) (*record, error) {
	var head struct {
		V *int `json:"v"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("%w: damaged: %v", ErrRecord, jsonErr(err))
	}
	if head.V == nil {
		return nil, fmt.Errorf("%w: damaged: no version", ErrRecord)
	}
	if *head.V != recordVersion {
		return nil, fmt.Errorf("%w: written as version %d; this simlab reads version %d", ErrRecord, *head.V, recordVersion)
	}
	var r record
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: damaged: %v", ErrRecord, jsonErr(err))
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: damaged: data after the record", ErrRecord)
	}
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRecord, err)
	}
	return &r, nil
}

// jsonErr is a JSON decoding error without the text of the value that did
// not fit (which could be a PIN).
func jsonErr(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %s: a JSON %s where a %s belongs", te.Field, te.Value, te.Type)
	}
	return err.Error()
}

// check validates the fields a decoder cannot: the card state is checked
// when the card takes it (uicc.Card.Import).
func (r *record) check() error {
	if s := r.Spec; s != nil && s.PIN != "" && (len(s.PIN) != authn.PINLength || !isDigits(s.PIN)) {
		return fmt.Errorf("spec.pin: not %d digits", authn.PINLength)
	}
	if r.Behaviour != nil {
		if err := r.Behaviour.Validate(); err != nil {
			return fmt.Errorf("behaviour: %w", err)
		}
	}
	if t := r.PINTries; t != nil && (*t < 0 || *t > authn.MaxPINTries) {
		return fmt.Errorf("pin_tries: %d is outside 0..%d", *t, authn.MaxPINTries)
	}
	if p := r.Position; p != nil && p.Next < 0 {
		return fmt.Errorf("position.next: %d", p.Next)
	}
	return nil
}
