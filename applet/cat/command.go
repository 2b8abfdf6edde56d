package cat

import (
	"github.com/simlab-dev/simlab/applet/tlv"
)

// Command is a proactive command (ETSI TS 102 223 §6.6), as the UICC hands
// it to the terminal in the response to FETCH: a BER-TLV object with tag D0
// holding command details, device identities and the command's simple
// objects. The types in this package are *DisplayText, *GetInkey,
// *GetInput, *SelectItem, *SetUpMenu, *SendShortMessage, *PlayTone,
// *ProvideLocalInfo, *Refresh, *MoreTime, *PollInterval, *PollingOff,
// *TimerManagement, *SetUpEventList and *RawCommand for any other type.
type Command interface {
	// Details returns the command details object: number, type, qualifier.
	Details() CommandDetails
	// AppendBinary appends the proactive command, tag D0 included.
	AppendBinary(dst []byte) ([]byte, error)
}

// MarshalCommand returns the encoding of c.
func MarshalCommand(c Command) ([]byte, error) { return c.AppendBinary(make([]byte, 0, 64)) }

// Header is what every proactive command carries besides its own objects:
// the command number (TS 102 223 §8.6), the device identities (§8.7) and
// objects this package does not model for the command type (text
// attributes, frame identifiers, objects of later releases), kept in order
// and re-encoded after the modelled ones.
type Header struct {
	Number byte
	// Devices is the source and destination; the zero value encodes as
	// UICC to the command's usual destination (display, terminal, network
	// or earpiece).
	Devices DeviceIdentities
	Extra   []tlv.CTLV
	rfu     byte    // qualifier bits the command type does not name
	cr      crFlags // objects that came without the CR flag
}

func (h *Header) devices(def Device) (Device, Device) {
	if h.Devices == (DeviceIdentities{}) {
		return DeviceUICC, def
	}
	return h.Devices.Source, h.Devices.Destination
}

// appendCommand writes the D0 template: command details, device
// identities, the body written by fn, then h.Extra.
func (h *Header) appendCommand(dst []byte, typ CommandType, q byte, def Device, fn func([]byte) ([]byte, error)) ([]byte, error) {
	var err error
	dst = tlv.AppendBERFunc(dst, tlv.TagProactive, func(b []byte) []byte {
		b = h.cr.obj(b, TagCommandDetails, h.Number, byte(typ), q|h.rfu)
		src, d := h.devices(def)
		b = h.cr.obj(b, TagDeviceIdentities, byte(src), byte(d))
		if fn != nil {
			b, err = fn(b)
		}
		for _, o := range h.Extra {
			b = o.Append(b)
		}
		return b
	})
	return dst, err
}

// frame is a parsed D0 or TERMINAL RESPONSE prefix.
type frame struct {
	details CommandDetails
	devices DeviceIdentities
	cr      crFlags
	body    []byte // objects after device identities (or result)
	base    int    // offset of body in the input
	end     int    // offset of the end of the template
}

// parseTemplate checks that b is exactly one BER-TLV object with tag want
// and returns its value and the value's offset.
func parseTemplate(b []byte, want tlv.BERTag, what string) ([]byte, int, error) {
	if len(b) == 0 {
		return nil, 0, errAt(0, ErrTemplate, "%s: expected tag %02X, got no data", what, uint32(want))
	}
	obj, rest, err := tlv.ParseBER(b)
	if err != nil {
		if be, ok := err.(*tlv.BERError); ok {
			return nil, 0, &DecodeError{Offset: be.Offset, What: what + ": expected " + be.Expected, Err: be.Err}
		}
		return nil, 0, &DecodeError{Offset: 0, What: what + " template", Err: err}
	}
	if obj.Tag != want {
		return nil, 0, errAt(0, ErrTemplate, "%s: expected tag %02X, got %02X", what, uint32(want), uint32(obj.Tag))
	}
	if len(rest) != 0 {
		return nil, 0, errAt(len(b)-len(rest), ErrTemplate, "%s: expected the end after the template, got %d more bytes", what, len(rest))
	}
	return obj.Value, len(b) - len(rest) - len(obj.Value), nil
}

// objects walks COMPREHENSION-TLVs in b (at offset base of the input),
// calling fn for each with its offset; objects fn does not take are
// appended to extra.
func objects(b []byte, base int, extra *[]tlv.CTLV, fn func(o tlv.CTLV, off int) (bool, error)) error {
	off := 0
	for off < len(b) {
		o, rest, err := tlv.ParseCTLV(b[off:])
		if err != nil {
			var ce *tlv.CTLVError
			if asCTLVError(err, &ce) {
				return &DecodeError{Offset: base + off + ce.Offset, What: "simple object: expected " + ce.Expected, Err: ce.Err}
			}
			return &DecodeError{Offset: base + off, What: "simple object", Err: err}
		}
		took, err := fn(o, base+off)
		if err != nil {
			return err
		}
		if !took {
			*extra = append(*extra, o)
		}
		off = len(b) - len(rest)
	}
	return nil
}

// parseCommandFrame parses D0 and its command details and device
// identities objects.
func parseCommandFrame(b []byte) (frame, error) {
	v, base, err := parseTemplate(b, tlv.TagProactive, "proactive command")
	if err != nil {
		return frame{}, err
	}
	f := frame{base: base, end: len(b)}
	if err := f.head(v, base, false); err != nil {
		return frame{}, err
	}
	return f, nil
}

// head parses command details and device identities (and, for a
// TERMINAL RESPONSE, nothing more: the result is the caller's) from v.
func (f *frame) head(v []byte, base int, response bool) error {
	o, rest, err := tlv.ParseCTLV(v)
	if err != nil || o.Tag != TagCommandDetails {
		return errAt(base, ErrMissing, "expected command details (tag 81 03) first")
	}
	if len(o.Value) != 3 {
		return errAt(base, ErrObject, "command details: expected 3 bytes, got %d", len(o.Value))
	}
	f.cr.note(o)
	f.details = CommandDetails{Number: o.Value[0], Type: CommandType(o.Value[1]), Qualifier: o.Value[2]}
	off := base + len(v) - len(rest)
	o, rest2, err := tlv.ParseCTLV(rest)
	if err != nil || o.Tag != TagDeviceIdentities {
		return errAt(off, ErrMissing, "expected device identities (tag 82 02) after command details")
	}
	if len(o.Value) != 2 {
		return errAt(off, ErrObject, "device identities: expected 2 bytes, got %d", len(o.Value))
	}
	f.cr.note(o)
	f.devices = DeviceIdentities{Source: Device(o.Value[0]), Destination: Device(o.Value[1])}
	f.body = rest2
	f.base = base + len(v) - len(rest2)
	return nil
}

func (f *frame) header(named byte) Header {
	return Header{Number: f.details.Number, Devices: f.devices, rfu: f.details.Qualifier &^ named, cr: f.cr}
}

// ParseCommand decodes a proactive command (ETSI TS 102 223 §6.6): the
// whole input must be one D0 object. Known command types become their typed
// struct, others a *RawCommand. Byte slices in the result alias b.
func ParseCommand(b []byte) (Command, error) {
	f, err := parseCommandFrame(b)
	if err != nil {
		return nil, err
	}
	var c interface {
		Command
		parse(f *frame) error
	}
	switch f.details.Type {
	case CmdDisplayText:
		c = new(DisplayText)
	case CmdGetInkey:
		c = new(GetInkey)
	case CmdGetInput:
		c = new(GetInput)
	case CmdSelectItem:
		c = new(SelectItem)
	case CmdSetUpMenu:
		c = new(SetUpMenu)
	case CmdSendShortMessage:
		c = new(SendShortMessage)
	case CmdPlayTone:
		c = new(PlayTone)
	case CmdProvideLocalInfo:
		c = new(ProvideLocalInfo)
	case CmdRefresh:
		c = new(Refresh)
	case CmdMoreTime:
		c = new(MoreTime)
	case CmdPollInterval:
		c = new(PollInterval)
	case CmdPollingOff:
		c = new(PollingOff)
	case CmdTimerManagement:
		c = new(TimerManagement)
	case CmdSetUpEventList:
		c = new(SetUpEventList)
	default:
		c = new(RawCommand)
	}
	if err := c.parse(&f); err != nil {
		return nil, err
	}
	return c, nil
}

// seen tracks which modelled objects were taken, so a repeated one goes to
// Extra.
type seen uint64

func (s *seen) first(t tlv.CTLVTag) bool {
	if t >= 64 {
		return true
	}
	if *s&(1<<t) != 0 {
		return false
	}
	*s |= 1 << t
	return true
}

func (s seen) has(t tlv.CTLVTag) bool { return s&(1<<t) != 0 }

func fixedLen(o tlv.CTLV, off, n int) error {
	if len(o.Value) != n {
		return errAt(off, ErrObject, "%s: expected %d bytes, got %d", TagName(o.Tag), n, len(o.Value))
	}
	return nil
}

func missing(f *frame, t tlv.CTLVTag) error {
	return errAt(f.end, ErrMissing, "%s %s: expected a %s object", f.details.Type, "command", TagName(t))
}

func parseIcon(o tlv.CTLV, off int) (*IconID, error) {
	if err := fixedLen(o, off, 2); err != nil {
		return nil, err
	}
	return &IconID{NotSelfExplanatory: o.Value[0]&1 != 0, ID: o.Value[1]}, nil
}

func (c crFlags) icon(dst []byte, ic *IconID) []byte {
	if ic == nil {
		return dst
	}
	return c.obj(dst, TagIconIdentifier, bit(ic.NotSelfExplanatory, 1), ic.ID)
}

func parseDuration(o tlv.CTLV, off int) (*Duration, error) {
	if err := fixedLen(o, off, 2); err != nil {
		return nil, err
	}
	return &Duration{Unit: TimeUnit(o.Value[0]), Interval: o.Value[1]}, nil
}

func (c crFlags) duration(dst []byte, d *Duration) []byte {
	if d == nil {
		return dst
	}
	return c.obj(dst, TagDuration, byte(d.Unit), d.Interval)
}

func (c crFlags) text(dst []byte, t tlv.CTLVTag, ts *TextString) []byte {
	if ts == nil {
		return dst
	}
	return tlv.AppendCTLVFunc(dst, t, c.cr(t), ts.appendValue)
}

func (c crFlags) alpha(dst []byte, a *AlphaID) []byte {
	if a == nil {
		return dst
	}
	return c.objBytes(dst, TagAlphaIdentifier, *a)
}

func bit(v bool, mask byte) byte {
	if v {
		return mask
	}
	return 0
}

// RawCommand is a proactive command of a type this package does not model,
// or one kept undecoded: its details and every object after the device
// identities, in order.
type RawCommand struct {
	Header
	Type      CommandType
	Qualifier byte
	// Destination used when Header.Devices is zero.
	Destination Device
	Objects     []tlv.CTLV
}

// Details implements Command.
func (c *RawCommand) Details() CommandDetails {
	return CommandDetails{Number: c.Number, Type: c.Type, Qualifier: c.Qualifier}
}

// AppendBinary implements Command.
func (c *RawCommand) AppendBinary(dst []byte) ([]byte, error) {
	def := c.Destination
	if def == 0 {
		def = DeviceTerminal
	}
	h := c.Header
	h.rfu = 0
	return h.appendCommand(dst, c.Type, c.Qualifier, def, func(b []byte) ([]byte, error) {
		for _, o := range c.Objects {
			b = o.Append(b)
		}
		return b, nil
	})
}

func (c *RawCommand) parse(f *frame) error {
	c.Header = f.header(0xFF)
	c.Header.rfu = 0
	c.Type, c.Qualifier = f.details.Type, f.details.Qualifier
	return objects(f.body, f.base, &c.Objects, func(tlv.CTLV, int) (bool, error) { return false, nil })
}

func asCTLVError(err error, target **tlv.CTLVError) bool {
	e, ok := err.(*tlv.CTLVError)
	if ok {
		*target = e
	}
	return ok
}
