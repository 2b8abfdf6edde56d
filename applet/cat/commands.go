package cat

import (
	"github.com/simlab-dev/simlab/applet/tlv"
)

// DisplayText is DISPLAY TEXT (ETSI TS 102 223 §6.4.1, §6.6.1).
type DisplayText struct {
	Header
	HighPriority      bool // qualifier bit 1: high priority (else normal)
	WaitForUser       bool // qualifier bit 8: wait for user to clear message (else clear after a delay)
	Text              TextString
	Icon              *IconID
	ImmediateResponse bool      // immediate response object: answer before the text is cleared
	Duration          *Duration // how long to show the text (variable time-out)
}

// Details implements Command.
func (c *DisplayText) Details() CommandDetails {
	return CommandDetails{Number: c.Number, Type: CmdDisplayText, Qualifier: c.qualifier() | c.rfu}
}

func (c *DisplayText) qualifier() byte {
	return bit(c.HighPriority, 0x01) | bit(c.WaitForUser, 0x80)
}

// AppendBinary implements Command.
func (c *DisplayText) AppendBinary(dst []byte) ([]byte, error) {
	return c.appendCommand(dst, CmdDisplayText, c.qualifier(), DeviceDisplay, func(b []byte) ([]byte, error) {
		b = c.cr.text(b, TagTextString, &c.Text)
		b = c.cr.icon(b, c.Icon)
		if c.ImmediateResponse {
			b = c.cr.obj(b, TagImmediateResponse)
		}
		return c.cr.duration(b, c.Duration), nil
	})
}

func (c *DisplayText) parse(f *frame) error {
	c.Header = f.header(0x81)
	q := f.details.Qualifier
	c.HighPriority, c.WaitForUser = q&0x01 != 0, q&0x80 != 0
	var s seen
	err := objects(f.body, f.base, &c.Extra, func(o tlv.CTLV, off int) (bool, error) {
		if !s.first(o.Tag) {
			return false, nil
		}
		var err error
		switch o.Tag {
		case TagTextString:
			c.Text = parseTextString(o.Value)
		case TagIconIdentifier:
			c.Icon, err = parseIcon(o, off)
		case TagImmediateResponse:
			c.ImmediateResponse = true
		case TagDuration:
			c.Duration, err = parseDuration(o, off)
		default:
			return false, nil
		}
		c.cr.note(o)
		return true, err
	})
	if err == nil && !s.has(TagTextString) {
		err = missing(f, TagTextString)
	}
	return err
}

// GetInkey is GET INKEY (ETSI TS 102 223 §6.4.2, §6.6.2).
type GetInkey struct {
	Header
	Alphabet       bool // qualifier bit 1: alphabet set (else digits 0-9, *, #, +)
	UCS2           bool // qualifier bit 2: UCS2 alphabet (else SMS default alphabet)
	YesNo          bool // qualifier bit 3: a Yes/No answer is requested
	ImmediateDigit bool // qualifier bit 4: immediate digit response requested
	Help           bool // qualifier bit 8: help information available
	Text           TextString
	Icon           *IconID
	Duration       *Duration // variable time-out
}

// Details implements Command.
func (c *GetInkey) Details() CommandDetails {
	return CommandDetails{Number: c.Number, Type: CmdGetInkey, Qualifier: c.qualifier() | c.rfu}
}

func (c *GetInkey) qualifier() byte {
	return bit(c.Alphabet, 0x01) | bit(c.UCS2, 0x02) | bit(c.YesNo, 0x04) | bit(c.ImmediateDigit, 0x08) | bit(c.Help, 0x80)
}

// AppendBinary implements Command.
func (c *GetInkey) AppendBinary(dst []byte) ([]byte, error) {
	return c.appendCommand(dst, CmdGetInkey, c.qualifier(), DeviceTerminal, func(b []byte) ([]byte, error) {
		b = c.cr.text(b, TagTextString, &c.Text)
		b = c.cr.icon(b, c.Icon)
		return c.cr.duration(b, c.Duration), nil
	})
}

func (c *GetInkey) parse(f *frame) error {
	c.Header = f.header(0x8F)
	q := f.details.Qualifier
	c.Alphabet, c.UCS2, c.YesNo, c.ImmediateDigit, c.Help = q&0x01 != 0, q&0x02 != 0, q&0x04 != 0, q&0x08 != 0, q&0x80 != 0
	var s seen
	err := objects(f.body, f.base, &c.Extra, func(o tlv.CTLV, off int) (bool, error) {
		if !s.first(o.Tag) {
			return false, nil
		}
		var err error
		switch o.Tag {
		case TagTextString:
			c.Text = parseTextString(o.Value)
		case TagIconIdentifier:
			c.Icon, err = parseIcon(o, off)
		case TagDuration:
			c.Duration, err = parseDuration(o, off)
		default:
			return false, nil
		}
		c.cr.note(o)
		return true, err
	})
	if err == nil && !s.has(TagTextString) {
		err = missing(f, TagTextString)
	}
	return err
}

// GetInput is GET INPUT (ETSI TS 102 223 §6.4.3, §6.6.3).
type GetInput struct {
	Header
	Alphabet  bool // qualifier bit 1: alphabet set (else digits 0-9, *, #, +)
	UCS2      bool // qualifier bit 2: UCS2 alphabet (else SMS default alphabet)
	HideInput bool // qualifier bit 3 (04): user input shall not be revealed
	Packed    bool // qualifier bit 4: user input in SMS packed format
	Help      bool // qualifier bit 8: help information available
	Text      TextString
	Length    ResponseLength
	Default   *TextString // default text (tag 17)
	Icon      *IconID
	Duration  *Duration // variable time-out (Rel-13 terminals)
}

// Details implements Command.
func (c *GetInput) Details() CommandDetails {
	return CommandDetails{Number: c.Number, Type: CmdGetInput, Qualifier: c.qualifier() | c.rfu}
}

func (c *GetInput) qualifier() byte {
	return bit(c.Alphabet, 0x01) | bit(c.UCS2, 0x02) | bit(c.HideInput, 0x04) | bit(c.Packed, 0x08) | bit(c.Help, 0x80)
}

// AppendBinary implements Command.
func (c *GetInput) AppendBinary(dst []byte) ([]byte, error) {
	return c.appendCommand(dst, CmdGetInput, c.qualifier(), DeviceTerminal, func(b []byte) ([]byte, error) {
		b = c.cr.text(b, TagTextString, &c.Text)
		b = c.cr.obj(b, TagResponseLength, c.Length.Min, c.Length.Max)
		b = c.cr.text(b, TagDefaultText, c.Default)
		b = c.cr.icon(b, c.Icon)
		return c.cr.duration(b, c.Duration), nil
	})
}

func (c *GetInput) parse(f *frame) error {
	c.Header = f.header(0x8F)
	q := f.details.Qualifier
	c.Alphabet, c.UCS2, c.HideInput, c.Packed, c.Help = q&0x01 != 0, q&0x02 != 0, q&0x04 != 0, q&0x08 != 0, q&0x80 != 0
	var s seen
	err := objects(f.body, f.base, &c.Extra, func(o tlv.CTLV, off int) (bool, error) {
		if !s.first(o.Tag) {
			return false, nil
		}
		var err error
		switch o.Tag {
		case TagTextString:
			c.Text = parseTextString(o.Value)
		case TagResponseLength:
			if err = fixedLen(o, off, 2); err == nil {
				c.Length = ResponseLength{Min: o.Value[0], Max: o.Value[1]}
			}
		case TagDefaultText:
			t := parseTextString(o.Value)
			c.Default = &t
		case TagIconIdentifier:
			c.Icon, err = parseIcon(o, off)
		case TagDuration:
			c.Duration, err = parseDuration(o, off)
		default:
			return false, nil
		}
		c.cr.note(o)
		return true, err
	})
	if err == nil && !s.has(TagTextString) {
		err = missing(f, TagTextString)
	}
	if err == nil && !s.has(TagResponseLength) {
		err = missing(f, TagResponseLength)
	}
	return err
}

// parseItem decodes an item object's value.
func parseItem(o tlv.CTLV, off int) (Item, error) {
	if len(o.Value) == 0 {
		return Item{}, errAt(off, ErrObject, "item: expected an identifier")
	}
	return Item{ID: o.Value[0], Text: AlphaID(o.Value[1:len(o.Value):len(o.Value)])}, nil
}

func (c crFlags) items(dst []byte, items []Item) []byte {
	cr := c.cr(TagItem)
	for _, it := range items {
		dst = tlv.AppendCTLVFunc(dst, TagItem, cr, func(b []byte) []byte {
			return append(append(b, it.ID), it.Text...)
		})
	}
	return dst
}

func parseItemIcons(o tlv.CTLV, off int) (*ItemIconList, error) {
	if len(o.Value) == 0 {
		return nil, errAt(off, ErrObject, "item icon identifier list: expected a qualifier")
	}
	return &ItemIconList{NotSelfExplanatory: o.Value[0]&1 != 0, IDs: o.Value[1:len(o.Value):len(o.Value)]}, nil
}

func (c crFlags) itemIcons(dst []byte, l *ItemIconList) []byte {
	if l == nil {
		return dst
	}
	return tlv.AppendCTLVFunc(dst, TagItemIconList, c.cr(TagItemIconList), func(b []byte) []byte {
		return append(append(b, bit(l.NotSelfExplanatory, 1)), l.IDs...)
	})
}

// SelectItem is SELECT ITEM (ETSI TS 102 223 §6.4.9, §6.6.8).
type SelectItem struct {
	Header
	PresentationSpecified bool // qualifier bit 1: presentation type given in bit 2
	NavigationOptions     bool // qualifier bit 2: navigation options (else data values)
	SoftKey               bool // qualifier bit 3: selection using soft key preferred
	Help                  bool // qualifier bit 8: help information available
	Alpha                 *AlphaID
	Items                 []Item
	NextAction            []byte // items next action indicator (command type per item), nil if absent
	DefaultItem           *byte  // item identifier of the default item
	Icon                  *IconID
	ItemIcons             *ItemIconList
}

// Details implements Command.
func (c *SelectItem) Details() CommandDetails {
	return CommandDetails{Number: c.Number, Type: CmdSelectItem, Qualifier: c.qualifier() | c.rfu}
}

func (c *SelectItem) qualifier() byte {
	return bit(c.PresentationSpecified, 0x01) | bit(c.NavigationOptions, 0x02) | bit(c.SoftKey, 0x04) | bit(c.Help, 0x80)
}

// AppendBinary implements Command.
func (c *SelectItem) AppendBinary(dst []byte) ([]byte, error) {
	return c.appendCommand(dst, CmdSelectItem, c.qualifier(), DeviceTerminal, func(b []byte) ([]byte, error) {
		b = c.cr.alpha(b, c.Alpha)
		b = c.cr.items(b, c.Items)
		if c.NextAction != nil {
			b = c.cr.objBytes(b, TagItemsNextAction, c.NextAction)
		}
		if c.DefaultItem != nil {
			b = c.cr.obj(b, TagItemIdentifier, *c.DefaultItem)
		}
		b = c.cr.icon(b, c.Icon)
		return c.cr.itemIcons(b, c.ItemIcons), nil
	})
}

func (c *SelectItem) parse(f *frame) error {
	c.Header = f.header(0x87)
	q := f.details.Qualifier
	c.PresentationSpecified, c.NavigationOptions, c.SoftKey, c.Help = q&0x01 != 0, q&0x02 != 0, q&0x04 != 0, q&0x80 != 0
	var s seen
	err := objects(f.body, f.base, &c.Extra, func(o tlv.CTLV, off int) (bool, error) {
		if o.Tag == TagItem {
			it, err := parseItem(o, off)
			c.Items = append(c.Items, it)
			c.cr.note(o)
			s.first(TagItem)
			return true, err
		}
		if !s.first(o.Tag) {
			return false, nil
		}
		var err error
		switch o.Tag {
		case TagAlphaIdentifier:
			a := AlphaID(o.Value)
			c.Alpha = &a
		case TagItemsNextAction:
			c.NextAction = o.Value
		case TagItemIdentifier:
			if err = fixedLen(o, off, 1); err == nil {
				id := o.Value[0]
				c.DefaultItem = &id
			}
		case TagIconIdentifier:
			c.Icon, err = parseIcon(o, off)
		case TagItemIconList:
			c.ItemIcons, err = parseItemIcons(o, off)
		default:
			return false, nil
		}
		c.cr.note(o)
		return true, err
	})
	if err == nil && len(c.Items) == 0 {
		err = missing(f, TagItem)
	}
	return err
}

// SetUpMenu is SET UP MENU (ETSI TS 102 223 §6.4.8, §6.6.7).
type SetUpMenu struct {
	Header
	SoftKey    bool // qualifier bit 1: selection using soft key preferred
	Help       bool // qualifier bit 8: help information available
	Alpha      AlphaID
	Items      []Item
	RemoveMenu bool   // one null item object: remove the existing menu
	NextAction []byte // items next action indicator, nil if absent
	Icon       *IconID
	ItemIcons  *ItemIconList
}

// Details implements Command.
func (c *SetUpMenu) Details() CommandDetails {
	return CommandDetails{Number: c.Number, Type: CmdSetUpMenu, Qualifier: c.qualifier() | c.rfu}
}

func (c *SetUpMenu) qualifier() byte { return bit(c.SoftKey, 0x01) | bit(c.Help, 0x80) }

// AppendBinary implements Command.
func (c *SetUpMenu) AppendBinary(dst []byte) ([]byte, error) {
	return c.appendCommand(dst, CmdSetUpMenu, c.qualifier(), DeviceTerminal, func(b []byte) ([]byte, error) {
		b = c.cr.objBytes(b, TagAlphaIdentifier, c.Alpha)
		if c.RemoveMenu {
			b = c.cr.obj(b, TagItem)
		} else {
			b = c.cr.items(b, c.Items)
		}
		if c.NextAction != nil {
			b = c.cr.objBytes(b, TagItemsNextAction, c.NextAction)
		}
		b = c.cr.icon(b, c.Icon)
		return c.cr.itemIcons(b, c.ItemIcons), nil
	})
}

func (c *SetUpMenu) parse(f *frame) error {
	c.Header = f.header(0x81)
	q := f.details.Qualifier
	c.SoftKey, c.Help = q&0x01 != 0, q&0x80 != 0
	var s seen
	err := objects(f.body, f.base, &c.Extra, func(o tlv.CTLV, off int) (bool, error) {
		if o.Tag == TagItem && !c.RemoveMenu {
			if len(o.Value) == 0 && len(c.Items) == 0 {
				c.RemoveMenu = true
			} else {
				it, err := parseItem(o, off)
				if err != nil {
					return false, err
				}
				c.Items = append(c.Items, it)
			}
			c.cr.note(o)
			s.first(TagItem)
			return true, nil
		}
		if !s.first(o.Tag) {
			return false, nil
		}
		var err error
		switch o.Tag {
		case TagAlphaIdentifier:
			c.Alpha = AlphaID(o.Value)
		case TagItemsNextAction:
			c.NextAction = o.Value
		case TagIconIdentifier:
			c.Icon, err = parseIcon(o, off)
		case TagItemIconList:
			c.ItemIcons, err = parseItemIcons(o, off)
		default:
			return false, nil
		}
		c.cr.note(o)
		return true, err
	})
	if err == nil && !s.has(TagAlphaIdentifier) {
		err = missing(f, TagAlphaIdentifier)
	}
	if err == nil && !s.has(TagItem) {
		err = missing(f, TagItem)
	}
	return err
}

// SendShortMessage is SEND SHORT MESSAGE (ETSI TS 102 223 §6.4.10, 3GPP
// TS 31.111 §6.6.9): the UICC asks the terminal to send an SMS-SUBMIT.
type SendShortMessage struct {
	Header
	PackingRequired bool // qualifier bit 1: the terminal must pack the text (7-bit)
	Alpha           *AlphaID
	Address         *Address // RP destination address (the SC); absent: the default SC
	TPDU            []byte   // SMS TPDU (an SMS-SUBMIT, decode with tpdu.Parse(b, tpdu.MO))
	Icon            *IconID
}

// Details implements Command.
func (c *SendShortMessage) Details() CommandDetails {
	return CommandDetails{Number: c.Number, Type: CmdSendShortMessage, Qualifier: bit(c.PackingRequired, 1) | c.rfu}
}

// AppendBinary implements Command.
func (c *SendShortMessage) AppendBinary(dst []byte) ([]byte, error) {
	return c.appendCommand(dst, CmdSendShortMessage, bit(c.PackingRequired, 1), DeviceNetwork, func(b []byte) ([]byte, error) {
		b = c.cr.alpha(b, c.Alpha)
		var err error
		if c.Address != nil {
			b = tlv.AppendCTLVFunc(b, TagAddress, c.cr.cr(TagAddress), func(b []byte) []byte {
				b, err = appendAddressValue(b, *c.Address)
				return b
			})
		}
		b = c.cr.objBytes(b, TagSMSTPDU, c.TPDU)
		return c.cr.icon(b, c.Icon), err
	})
}

func (c *SendShortMessage) parse(f *frame) error {
	c.Header = f.header(0x01)
	c.PackingRequired = f.details.Qualifier&1 != 0
	var s seen
	err := objects(f.body, f.base, &c.Extra, func(o tlv.CTLV, off int) (bool, error) {
		if !s.first(o.Tag) {
			return false, nil
		}
		var err error
		switch o.Tag {
		case TagAlphaIdentifier:
			a := AlphaID(o.Value)
			c.Alpha = &a
		case TagAddress:
			a, aerr := parseAddressValue(o.Value)
			if aerr != nil {
				return false, &DecodeError{Offset: off, What: "address", Err: aerr}
			}
			c.Address = &a
		case TagSMSTPDU:
			c.TPDU = o.Value
		case TagIconIdentifier:
			c.Icon, err = parseIcon(o, off)
		default:
			return false, nil
		}
		c.cr.note(o)
		return true, err
	})
	if err == nil && !s.has(TagSMSTPDU) {
		err = missing(f, TagSMSTPDU)
	}
	return err
}

// PlayTone is PLAY TONE (ETSI TS 102 223 §6.4.5, §6.6.5).
type PlayTone struct {
	Header
	Vibrate  bool // qualifier bit 1: use vibrate alert with the tone
	Alpha    *AlphaID
	Tone     *Tone
	Duration *Duration
	Icon     *IconID
}

// Details implements Command.
func (c *PlayTone) Details() CommandDetails {
	return CommandDetails{Number: c.Number, Type: CmdPlayTone, Qualifier: bit(c.Vibrate, 1) | c.rfu}
}

// AppendBinary implements Command.
func (c *PlayTone) AppendBinary(dst []byte) ([]byte, error) {
	return c.appendCommand(dst, CmdPlayTone, bit(c.Vibrate, 1), DeviceEarpiece, func(b []byte) ([]byte, error) {
		b = c.cr.alpha(b, c.Alpha)
		if c.Tone != nil {
			b = c.cr.obj(b, TagTone, byte(*c.Tone))
		}
		b = c.cr.duration(b, c.Duration)
		return c.cr.icon(b, c.Icon), nil
	})
}

func (c *PlayTone) parse(f *frame) error {
	c.Header = f.header(0x01)
	c.Vibrate = f.details.Qualifier&1 != 0
	var s seen
	return objects(f.body, f.base, &c.Extra, func(o tlv.CTLV, off int) (bool, error) {
		if !s.first(o.Tag) {
			return false, nil
		}
		var err error
		switch o.Tag {
		case TagAlphaIdentifier:
			a := AlphaID(o.Value)
			c.Alpha = &a
		case TagTone:
			if err = fixedLen(o, off, 1); err == nil {
				t := Tone(o.Value[0])
				c.Tone = &t
			}
		case TagDuration:
			c.Duration, err = parseDuration(o, off)
		case TagIconIdentifier:
			c.Icon, err = parseIcon(o, off)
		default:
			return false, nil
		}
		c.cr.note(o)
		return true, err
	})
}

// ProvideLocalInfo is PROVIDE LOCAL INFORMATION (ETSI TS 102 223 §6.4.15,
// 3GPP TS 31.111 §6.4.15); the qualifier says what is asked.
type ProvideLocalInfo struct {
	Header
	Kind LocalInfoKind
}

// Details implements Command.
func (c *ProvideLocalInfo) Details() CommandDetails {
	return CommandDetails{Number: c.Number, Type: CmdProvideLocalInfo, Qualifier: byte(c.Kind)}
}

// AppendBinary implements Command.
func (c *ProvideLocalInfo) AppendBinary(dst []byte) ([]byte, error) {
	return c.appendCommand(dst, CmdProvideLocalInfo, byte(c.Kind), DeviceTerminal, nil)
}

func (c *ProvideLocalInfo) parse(f *frame) error {
	c.Header = f.header(0xFF)
	c.Kind = LocalInfoKind(f.details.Qualifier)
	return objects(f.body, f.base, &c.Extra, func(tlv.CTLV, int) (bool, error) { return false, nil })
}

// Refresh is REFRESH (ETSI TS 102 223 §6.4.7, §6.6.13).
type Refresh struct {
	Header
	Mode  RefreshMode
	Files []byte // file list object value (number of files, then paths), nil if absent
	AID   []byte // AID object value, nil if absent
	Alpha *AlphaID
}

// Details implements Command.
func (c *Refresh) Details() CommandDetails {
	return CommandDetails{Number: c.Number, Type: CmdRefresh, Qualifier: byte(c.Mode)}
}

// AppendBinary implements Command.
func (c *Refresh) AppendBinary(dst []byte) ([]byte, error) {
	return c.appendCommand(dst, CmdRefresh, byte(c.Mode), DeviceTerminal, func(b []byte) ([]byte, error) {
		if c.Files != nil {
			b = c.cr.objBytes(b, TagFileList, c.Files)
		}
		if c.AID != nil {
			b = c.cr.objBytes(b, 0x2F, c.AID)
		}
		return c.cr.alpha(b, c.Alpha), nil
	})
}

func (c *Refresh) parse(f *frame) error {
	c.Header = f.header(0xFF)
	c.Mode = RefreshMode(f.details.Qualifier)
	var s seen
	return objects(f.body, f.base, &c.Extra, func(o tlv.CTLV, off int) (bool, error) {
		if !s.first(o.Tag) {
			return false, nil
		}
		switch o.Tag {
		case TagFileList:
			c.Files = o.Value
		case 0x2F:
			c.AID = o.Value
		case TagAlphaIdentifier:
			a := AlphaID(o.Value)
			c.Alpha = &a
		default:
			return false, nil
		}
		c.cr.note(o)
		return true, nil
	})
}

// MoreTime is MORE TIME (ETSI TS 102 223 §6.4.4).
type MoreTime struct{ Header }

// Details implements Command.
func (c *MoreTime) Details() CommandDetails {
	return CommandDetails{Number: c.Number, Type: CmdMoreTime, Qualifier: c.rfu}
}

// AppendBinary implements Command.
func (c *MoreTime) AppendBinary(dst []byte) ([]byte, error) {
	return c.appendCommand(dst, CmdMoreTime, 0, DeviceTerminal, nil)
}

func (c *MoreTime) parse(f *frame) error {
	c.Header = f.header(0)
	return objects(f.body, f.base, &c.Extra, func(tlv.CTLV, int) (bool, error) { return false, nil })
}

// PollingOff is POLLING OFF (ETSI TS 102 223 §6.4.14).
type PollingOff struct{ Header }

// Details implements Command.
func (c *PollingOff) Details() CommandDetails {
	return CommandDetails{Number: c.Number, Type: CmdPollingOff, Qualifier: c.rfu}
}

// AppendBinary implements Command.
func (c *PollingOff) AppendBinary(dst []byte) ([]byte, error) {
	return c.appendCommand(dst, CmdPollingOff, 0, DeviceTerminal, nil)
}

func (c *PollingOff) parse(f *frame) error {
	c.Header = f.header(0)
	return objects(f.body, f.base, &c.Extra, func(tlv.CTLV, int) (bool, error) { return false, nil })
}

// PollInterval is POLL INTERVAL (ETSI TS 102 223 §6.4.6).
type PollInterval struct {
	Header
	Interval Duration
}

// Details implements Command.
func (c *PollInterval) Details() CommandDetails {
	return CommandDetails{Number: c.Number, Type: CmdPollInterval, Qualifier: c.rfu}
}

// AppendBinary implements Command.
func (c *PollInterval) AppendBinary(dst []byte) ([]byte, error) {
	return c.appendCommand(dst, CmdPollInterval, 0, DeviceTerminal, func(b []byte) ([]byte, error) {
		return c.cr.duration(b, &c.Interval), nil
	})
}

func (c *PollInterval) parse(f *frame) error {
	c.Header = f.header(0)
	var s seen
	err := objects(f.body, f.base, &c.Extra, func(o tlv.CTLV, off int) (bool, error) {
		if o.Tag != TagDuration || !s.first(o.Tag) {
			return false, nil
		}
		d, err := parseDuration(o, off)
		if err == nil {
			c.Interval = *d
		}
		c.cr.note(o)
		return true, err
	})
	if err == nil && !s.has(TagDuration) {
		err = missing(f, TagDuration)
	}
	return err
}

// TimerManagement is TIMER MANAGEMENT (ETSI TS 102 223 §6.4.21).
type TimerManagement struct {
	Header
	Action  TimerAction // qualifier bits 1-2
	TimerID byte        // 1..8
	Value   *TimerValue // for Start
}

// Details implements Command.
func (c *TimerManagement) Details() CommandDetails {
	return CommandDetails{Number: c.Number, Type: CmdTimerManagement, Qualifier: byte(c.Action)&3 | c.rfu}
}

// AppendBinary implements Command.
func (c *TimerManagement) AppendBinary(dst []byte) ([]byte, error) {
	return c.appendCommand(dst, CmdTimerManagement, byte(c.Action)&3, DeviceTerminal, func(b []byte) ([]byte, error) {
		b = c.cr.obj(b, TagTimerIdentifier, c.TimerID)
		if c.Value != nil {
			b = tlv.AppendCTLVFunc(b, TagTimerValue, c.cr.cr(TagTimerValue), c.Value.appendValue)
		}
		return b, nil
	})
}

func (c *TimerManagement) parse(f *frame) error {
	c.Header = f.header(0x03)
	c.Action = TimerAction(f.details.Qualifier & 3)
	var s seen
	err := objects(f.body, f.base, &c.Extra, func(o tlv.CTLV, off int) (bool, error) {
		if !s.first(o.Tag) {
			return false, nil
		}
		switch o.Tag {
		case TagTimerIdentifier:
			if err := fixedLen(o, off, 1); err != nil {
				return false, err
			}
			c.TimerID = o.Value[0]
		case TagTimerValue:
			v, ok := parseTimerValue(o.Value)
			if !ok {
				return false, errAt(off, ErrObject, "timer value: expected 3 bytes of swapped BCD")
			}
			c.Value = &v
		default:
			return false, nil
		}
		c.cr.note(o)
		return true, nil
	})
	if err == nil && !s.has(TagTimerIdentifier) {
		err = missing(f, TagTimerIdentifier)
	}
	return err
}

// SetUpEventList is SET UP EVENT LIST (ETSI TS 102 223 §6.4.16): the events
// the terminal shall report with ENVELOPE (EVENT DOWNLOAD). An empty list
// removes the current one.
type SetUpEventList struct {
	Header
	Events []Event
}

// Details implements Command.
func (c *SetUpEventList) Details() CommandDetails {
	return CommandDetails{Number: c.Number, Type: CmdSetUpEventList, Qualifier: c.rfu}
}

// AppendBinary implements Command.
func (c *SetUpEventList) AppendBinary(dst []byte) ([]byte, error) {
	return c.appendCommand(dst, CmdSetUpEventList, 0, DeviceTerminal, func(b []byte) ([]byte, error) {
		return tlv.AppendCTLVFunc(b, TagEventList, c.cr.cr(TagEventList), func(b []byte) []byte {
			for _, e := range c.Events {
				b = append(b, byte(e))
			}
			return b
		}), nil
	})
}

func (c *SetUpEventList) parse(f *frame) error {
	c.Header = f.header(0)
	var s seen
	err := objects(f.body, f.base, &c.Extra, func(o tlv.CTLV, off int) (bool, error) {
		if o.Tag != TagEventList || !s.first(o.Tag) {
			return false, nil
		}
		c.Events = make([]Event, len(o.Value))
		for i, e := range o.Value {
			c.Events[i] = Event(e)
		}
		c.cr.note(o)
		return true, nil
	})
	if err == nil && !s.has(TagEventList) {
		err = missing(f, TagEventList)
	}
	return err
}
