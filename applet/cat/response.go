package cat

import (
	"github.com/simlab-dev/simlab/applet/tlv"
)

// TerminalResponse is the body of a TERMINAL RESPONSE command (ETSI TS 102
// 223 §6.8, §7.3; 3GPP TS 31.111 §6.8): the command details echoed from the
// proactive command, device identities (terminal to UICC), the result and
// the data the command asked for. It is sent as APDU 80 14 00 00 Lc body;
// there is no outer BER-TLV template.
type TerminalResponse struct {
	Details CommandDetails
	// Devices is the source and destination; the zero value encodes as
	// terminal (82) to UICC (81).
	Devices DeviceIdentities
	Result  Result
	// Duration answers POLL INTERVAL (the interval granted) and GET INKEY
	// with variable time-out (the time the user took).
	Duration *Duration
	// Text answers GET INKEY and GET INPUT; a null text string when the
	// user entered nothing.
	Text *TextString
	// ItemID answers SELECT ITEM: the identifier of the chosen item.
	ItemID *byte
	// TimerID and TimerValue answer TIMER MANAGEMENT.
	TimerID    *byte
	TimerValue *TimerValue
	// Extra holds the other objects in order: local information (location
	// information 13, IMEI 14, date-time 26, language 2D, access technology
	// 3F, IMEISV 62…) and anything this package does not model.
	Extra []tlv.CTLV
	cr    crFlags
}

// RespondTo returns the terminal response skeleton for c: its command
// details echoed and the given general result.
func RespondTo(c Command, g GeneralResult, additional ...byte) *TerminalResponse {
	return &TerminalResponse{Details: c.Details(), Result: Result{General: g, Additional: additional}}
}

// AppendBinary appends the TERMINAL RESPONSE body.
func (r *TerminalResponse) AppendBinary(dst []byte) ([]byte, error) {
	c := r.cr
	d := r.Details
	dst = c.obj(dst, TagCommandDetails, d.Number, byte(d.Type), d.Qualifier)
	src, dest := DeviceTerminal, DeviceUICC
	if r.Devices != (DeviceIdentities{}) {
		src, dest = r.Devices.Source, r.Devices.Destination
	}
	dst = c.obj(dst, TagDeviceIdentities, byte(src), byte(dest))
	dst = tlv.AppendCTLVFunc(dst, TagResult, c.cr(TagResult), func(b []byte) []byte {
		return append(append(b, byte(r.Result.General)), r.Result.Additional...)
	})
	dst = c.duration(dst, r.Duration)
	dst = c.text(dst, TagTextString, r.Text)
	if r.ItemID != nil {
		dst = c.obj(dst, TagItemIdentifier, *r.ItemID)
	}
	if r.TimerID != nil {
		dst = c.obj(dst, TagTimerIdentifier, *r.TimerID)
	}
	if r.TimerValue != nil {
		dst = tlv.AppendCTLVFunc(dst, TagTimerValue, c.cr(TagTimerValue), r.TimerValue.appendValue)
	}
	for _, o := range r.Extra {
		dst = o.Append(dst)
	}
	return dst, nil
}

// MarshalBinary returns the TERMINAL RESPONSE body.
func (r *TerminalResponse) MarshalBinary() ([]byte, error) {
	return r.AppendBinary(make([]byte, 0, 32))
}

// APDU returns the whole TERMINAL RESPONSE command APDU: 80 14 00 00 Lc
// body (TS 102 221 §10.1.2; class A0 for GSM SIMs is the caller's).
func (r *TerminalResponse) APDU() ([]byte, error) {
	b := append(make([]byte, 0, 40), 0x80, 0x14, 0x00, 0x00, 0x00)
	b, err := r.AppendBinary(b)
	if err != nil {
		return nil, err
	}
	if len(b)-5 > 255 {
		return nil, errAt(0, ErrObject, "terminal response of %d bytes does not fit a short APDU", len(b)-5)
	}
	b[4] = byte(len(b) - 5)
	return b, nil
}

// ParseTerminalResponse decodes a TERMINAL RESPONSE body (the data field
// of the APDU, starting with the command details object). Byte slices in
// the result alias b.
func ParseTerminalResponse(b []byte) (*TerminalResponse, error) {
	var f frame
	if err := f.head(b, 0, true); err != nil {
		return nil, err
	}
	r := &TerminalResponse{Details: f.details, Devices: f.devices, cr: f.cr}
	o, rest, err := tlv.ParseCTLV(f.body)
	if err != nil || o.Tag != TagResult {
		return nil, errAt(f.base, ErrMissing, "terminal response: expected the result object (tag 83) after device identities")
	}
	if len(o.Value) == 0 {
		return nil, errAt(f.base, ErrObject, "result: expected a general result byte")
	}
	r.cr.note(o)
	r.Result = Result{General: GeneralResult(o.Value[0]), Additional: o.Value[1:len(o.Value):len(o.Value)]}
	if len(r.Result.Additional) == 0 {
		r.Result.Additional = nil
	}
	base := f.base + len(f.body) - len(rest)
	var s seen
	err = objects(rest, base, &r.Extra, func(o tlv.CTLV, off int) (bool, error) {
		if !s.first(o.Tag) {
			return false, nil
		}
		var err error
		switch o.Tag {
		case TagDuration:
			r.Duration, err = parseDuration(o, off)
		case TagTextString:
			t := parseTextString(o.Value)
			r.Text = &t
		case TagItemIdentifier:
			if err = fixedLen(o, off, 1); err == nil {
				id := o.Value[0]
				r.ItemID = &id
			}
		case TagTimerIdentifier:
			if err = fixedLen(o, off, 1); err == nil {
				id := o.Value[0]
				r.TimerID = &id
			}
		case TagTimerValue:
			v, ok := parseTimerValue(o.Value)
			if !ok {
				return false, errAt(off, ErrObject, "timer value: expected 3 bytes of swapped BCD")
			}
			r.TimerValue = &v
		default:
			return false, nil
		}
		r.cr.note(o)
		return true, err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}
