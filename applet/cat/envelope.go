package cat

import (
	"fmt"

	"github.com/simlab-dev/simlab/applet/tlv"
)

// Envelope is the data of an ENVELOPE command (ETSI TS 102 223 §7; 3GPP TS
// 31.111 §7): a BER-TLV object D1..DF. The types in this package are
// *SMSPPDownload (D1), *MenuSelection (D3), *EventDownload (D6),
// *TimerExpiration (D7) and *RawEnvelope for the others (call control D4,
// MO short message control D5, cell broadcast D2, …).
type Envelope interface {
	// Tag returns the envelope's BER-TLV tag.
	Tag() tlv.BERTag
	// AppendBinary appends the BER-TLV envelope object.
	AppendBinary(dst []byte) ([]byte, error)
}

// MarshalEnvelope returns the encoding of e.
func MarshalEnvelope(e Envelope) ([]byte, error) { return e.AppendBinary(make([]byte, 0, 64)) }

// EnvelopeAPDU returns the ENVELOPE command APDU carrying e: 80 C2 00 00
// Lc data (ETSI TS 102 221 §10.1.2).
func EnvelopeAPDU(e Envelope) ([]byte, error) {
	b, err := e.AppendBinary(append(make([]byte, 0, 64), 0x80, 0xC2, 0x00, 0x00, 0x00))
	if err != nil {
		return nil, err
	}
	if len(b)-5 > 255 {
		return nil, fmt.Errorf("%w: envelope of %d bytes does not fit a short APDU", ErrObject, len(b)-5)
	}
	b[4] = byte(len(b) - 5)
	return b, nil
}

var envelopeNames = map[tlv.BERTag]string{
	0xD1: "SMS-PP download", 0xD2: "cell broadcast download", 0xD3: "menu selection",
	0xD4: "call control", 0xD5: "MO short message control", 0xD6: "event download",
	0xD7: "timer expiration", 0xD9: "USSD download", 0xDA: "MMS transfer status",
	0xDB: "MMS notification download", 0xDC: "terminal applications",
	0xDD: "geographical location reporting", 0xDE: "envelope container",
}

// EnvelopeName returns the TS 102 223 §9.1 name of an envelope tag.
func EnvelopeName(t tlv.BERTag) string {
	if n, ok := envelopeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("envelope %02X", uint32(t))
}

// EnvelopeHeader is what the typed envelopes share: the device identities
// (TS 102 223 §8.7) and the objects this package does not model, kept in
// order and re-encoded after the modelled ones.
type EnvelopeHeader struct {
	// Devices is the source and destination; the zero value encodes as the
	// envelope's usual source to the UICC.
	Devices DeviceIdentities
	Extra   []tlv.CTLV
	cr      crFlags
}

func (h *EnvelopeHeader) appendEnvelope(dst []byte, tag tlv.BERTag, def Device, fn func([]byte) ([]byte, error)) ([]byte, error) {
	var err error
	dst = tlv.AppendBERFunc(dst, tag, func(b []byte) []byte {
		src, d := def, DeviceUICC
		if h.Devices != (DeviceIdentities{}) {
			src, d = h.Devices.Source, h.Devices.Destination
		}
		b = h.cr.obj(b, TagDeviceIdentities, byte(src), byte(d))
		b, err = fn(b)
		for _, o := range h.Extra {
			b = o.Append(b)
		}
		return b
	})
	return dst, err
}

// parseEnvelopeBody walks the objects of an envelope: device identities
// (mandatory, anywhere) go to h.Devices, the rest to fn or h.Extra.
func (h *EnvelopeHeader) parseBody(v []byte, base, end int, name string, fn func(o tlv.CTLV, off int) (bool, error)) error {
	var s seen
	err := objects(v, base, &h.Extra, func(o tlv.CTLV, off int) (bool, error) {
		if o.Tag == TagDeviceIdentities && s.first(o.Tag) {
			if err := fixedLen(o, off, 2); err != nil {
				return false, err
			}
			h.Devices = DeviceIdentities{Source: Device(o.Value[0]), Destination: Device(o.Value[1])}
			h.cr.note(o)
			return true, nil
		}
		return fn(o, off)
	})
	if err == nil && !s.has(TagDeviceIdentities) {
		err = errAt(end, ErrMissing, "%s: expected a device identities object", name)
	}
	return err
}

// SMSPPDownload is ENVELOPE (SMS-PP DOWNLOAD) (3GPP TS 31.111 §7.1.1, ETSI
// TS 102 223 §7.1): the terminal hands the UICC an SMS-DELIVER with PID
// (U)SIM data download.
type SMSPPDownload struct {
	EnvelopeHeader
	Address *Address // RP originating address of the service centre; optional
	TPDU    []byte   // the SMS-DELIVER (decode with tpdu.Parse(b, tpdu.MT))
}

// Tag returns D1.
func (*SMSPPDownload) Tag() tlv.BERTag { return tlv.TagSMSPPDownload }

// AppendBinary implements Envelope.
func (e *SMSPPDownload) AppendBinary(dst []byte) ([]byte, error) {
	return e.appendEnvelope(dst, tlv.TagSMSPPDownload, DeviceNetwork, func(b []byte) ([]byte, error) {
		var err error
		if e.Address != nil {
			b = tlv.AppendCTLVFunc(b, TagAddress, e.cr.cr(TagAddress), func(b []byte) []byte {
				b, err = appendAddressValue(b, *e.Address)
				return b
			})
		}
		return e.cr.objBytes(b, TagSMSTPDU, e.TPDU), err
	})
}

func (e *SMSPPDownload) parse(v []byte, base, end int) error {
	var s seen
	err := e.parseBody(v, base, end, "SMS-PP download", func(o tlv.CTLV, off int) (bool, error) {
		if !s.first(o.Tag) {
			return false, nil
		}
		switch o.Tag {
		case TagAddress:
			a, err := parseAddressValue(o.Value)
			if err != nil {
				return false, &DecodeError{Offset: off, What: "address", Err: err}
			}
			e.Address = &a
		case TagSMSTPDU:
			e.TPDU = o.Value
		default:
			return false, nil
		}
		e.cr.note(o)
		return true, nil
	})
	if err == nil && !s.has(TagSMSTPDU) {
		err = errAt(end, ErrMissing, "SMS-PP download: expected an SMS TPDU object")
	}
	return err
}

// MenuSelection is ENVELOPE (MENU SELECTION) (ETSI TS 102 223 §7.2): the
// user chose an item of the menu set up with SET UP MENU.
type MenuSelection struct {
	EnvelopeHeader
	ItemID      byte
	HelpRequest bool // the user asked for help on the item
}

// Tag returns D3.
func (*MenuSelection) Tag() tlv.BERTag { return tlv.TagMenuSelection }

// AppendBinary implements Envelope.
func (e *MenuSelection) AppendBinary(dst []byte) ([]byte, error) {
	return e.appendEnvelope(dst, tlv.TagMenuSelection, DeviceKeypad, func(b []byte) ([]byte, error) {
		b = e.cr.obj(b, TagItemIdentifier, e.ItemID)
		if e.HelpRequest {
			b = e.cr.obj(b, TagHelpRequest)
		}
		return b, nil
	})
}

func (e *MenuSelection) parse(v []byte, base, end int) error {
	var s seen
	err := e.parseBody(v, base, end, "menu selection", func(o tlv.CTLV, off int) (bool, error) {
		if !s.first(o.Tag) {
			return false, nil
		}
		switch o.Tag {
		case TagItemIdentifier:
			if err := fixedLen(o, off, 1); err != nil {
				return false, err
			}
			e.ItemID = o.Value[0]
		case TagHelpRequest:
			e.HelpRequest = true
		default:
			return false, nil
		}
		e.cr.note(o)
		return true, nil
	})
	if err == nil && !s.has(TagItemIdentifier) {
		err = errAt(end, ErrMissing, "menu selection: expected an item identifier object")
	}
	return err
}

// EventDownload is ENVELOPE (EVENT DOWNLOAD) (ETSI TS 102 223 §7.5): one
// event of the list set up with SET UP EVENT LIST. The objects that come
// with some events (location status and location information for the
// location status event, language for language selection, …) are in Extra,
// except LocationStatus which is modelled.
type EventDownload struct {
	EnvelopeHeader
	Event          Event
	LocationStatus *LocationStatus
}

// Tag returns D6.
func (*EventDownload) Tag() tlv.BERTag { return tlv.TagEventDownload }

// defaultSource is the usual source of an event (TS 102 223 §7.5.x):
// the network for call events, the display for idle screen available, the
// terminal otherwise.
func (e *EventDownload) defaultSource() Device {
	switch e.Event {
	case EventMTCall, EventCallConnected, EventCallDisconnected:
		return DeviceNetwork
	case EventIdleScreenAvailable:
		return DeviceDisplay
	}
	return DeviceTerminal
}

// AppendBinary implements Envelope.
func (e *EventDownload) AppendBinary(dst []byte) ([]byte, error) {
	// The event list comes first, then device identities (TS 102 223 §7.5).
	var err error
	dst = tlv.AppendBERFunc(dst, tlv.TagEventDownload, func(b []byte) []byte {
		b = e.cr.obj(b, TagEventList, byte(e.Event))
		src, d := e.defaultSource(), DeviceUICC
		if e.Devices != (DeviceIdentities{}) {
			src, d = e.Devices.Source, e.Devices.Destination
		}
		b = e.cr.obj(b, TagDeviceIdentities, byte(src), byte(d))
		if e.LocationStatus != nil {
			b = e.cr.obj(b, TagLocationStatus, byte(*e.LocationStatus))
		}
		for _, o := range e.Extra {
			b = o.Append(b)
		}
		return b
	})
	return dst, err
}

func (e *EventDownload) parse(v []byte, base, end int) error {
	var s seen
	err := e.parseBody(v, base, end, "event download", func(o tlv.CTLV, off int) (bool, error) {
		if !s.first(o.Tag) {
			return false, nil
		}
		switch o.Tag {
		case TagEventList:
			if err := fixedLen(o, off, 1); err != nil {
				return false, err
			}
			e.Event = Event(o.Value[0])
		case TagLocationStatus:
			if err := fixedLen(o, off, 1); err != nil {
				return false, err
			}
			ls := LocationStatus(o.Value[0])
			e.LocationStatus = &ls
		default:
			return false, nil
		}
		e.cr.note(o)
		return true, nil
	})
	if err == nil && !s.has(TagEventList) {
		err = errAt(end, ErrMissing, "event download: expected an event list object")
	}
	return err
}

// TimerExpiration is ENVELOPE (TIMER EXPIRATION) (ETSI TS 102 223 §7.6): a
// timer started with TIMER MANAGEMENT ran out.
type TimerExpiration struct {
	EnvelopeHeader
	TimerID byte
	Value   TimerValue // the time elapsed since the timer was started
}

// Tag returns D7.
func (*TimerExpiration) Tag() tlv.BERTag { return tlv.TagTimerExpiration }

// AppendBinary implements Envelope.
func (e *TimerExpiration) AppendBinary(dst []byte) ([]byte, error) {
	return e.appendEnvelope(dst, tlv.TagTimerExpiration, DeviceTerminal, func(b []byte) ([]byte, error) {
		b = e.cr.obj(b, TagTimerIdentifier, e.TimerID)
		return tlv.AppendCTLVFunc(b, TagTimerValue, e.cr.cr(TagTimerValue), e.Value.appendValue), nil
	})
}

func (e *TimerExpiration) parse(v []byte, base, end int) error {
	var s seen
	err := e.parseBody(v, base, end, "timer expiration", func(o tlv.CTLV, off int) (bool, error) {
		if !s.first(o.Tag) {
			return false, nil
		}
		switch o.Tag {
		case TagTimerIdentifier:
			if err := fixedLen(o, off, 1); err != nil {
				return false, err
			}
			e.TimerID = o.Value[0]
		case TagTimerValue:
			tv, ok := parseTimerValue(o.Value)
			if !ok {
				return false, errAt(off, ErrObject, "timer value: expected 3 bytes of swapped BCD")
			}
			e.Value = tv
		default:
			return false, nil
		}
		e.cr.note(o)
		return true, nil
	})
	if err == nil && !s.has(TagTimerIdentifier) {
		err = errAt(end, ErrMissing, "timer expiration: expected a timer identifier object")
	}
	if err == nil && !s.has(TagTimerValue) {
		err = errAt(end, ErrMissing, "timer expiration: expected a timer value object")
	}
	return err
}

// RawEnvelope is an envelope this package does not model (call control,
// MO short message control, …): its tag and its objects in order.
type RawEnvelope struct {
	EnvelopeTag tlv.BERTag
	Objects     []tlv.CTLV
}

// Tag returns the envelope's tag.
func (e *RawEnvelope) Tag() tlv.BERTag { return e.EnvelopeTag }

// AppendBinary implements Envelope.
func (e *RawEnvelope) AppendBinary(dst []byte) ([]byte, error) {
	return tlv.AppendBERFunc(dst, e.EnvelopeTag, func(b []byte) []byte {
		for _, o := range e.Objects {
			b = o.Append(b)
		}
		return b
	}), nil
}

// ParseEnvelope decodes the data of an ENVELOPE command: one BER-TLV object
// with a tag D1..DF (ETSI TS 102 223 §7). Byte slices in the result alias b.
func ParseEnvelope(b []byte) (Envelope, error) {
	if len(b) == 0 {
		return nil, errAt(0, ErrTemplate, "envelope: expected a tag D1..DF, got no data")
	}
	if b[0] < 0xD1 || b[0] > 0xDF {
		return nil, errAt(0, ErrTemplate, "envelope: expected a tag D1..DF, got %02X", b[0])
	}
	tag := tlv.BERTag(b[0])
	v, base, err := parseTemplate(b, tag, "envelope")
	if err != nil {
		return nil, err
	}
	var e interface {
		Envelope
		parse(v []byte, base, end int) error
	}
	switch tag {
	case tlv.TagSMSPPDownload:
		e = new(SMSPPDownload)
	case tlv.TagMenuSelection:
		e = new(MenuSelection)
	case tlv.TagEventDownload:
		e = new(EventDownload)
	case tlv.TagTimerExpiration:
		e = new(TimerExpiration)
	default:
		r := &RawEnvelope{EnvelopeTag: tag}
		if err := objects(v, base, &r.Objects, func(tlv.CTLV, int) (bool, error) { return false, nil }); err != nil {
			return nil, err
		}
		return r, nil
	}
	if err := e.parse(v, base, len(b)); err != nil {
		return nil, err
	}
	return e, nil
}
