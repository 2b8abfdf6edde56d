package modem

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/simlab-dev/simlab/applet/ota"
	"github.com/warthog618/modem/at"
	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/pdumode"
	"github.com/warthog618/sms/encoding/tpdu"
)

// sendTimeout is the least time allowed for one AT+CMGS: the network
// answer can take tens of seconds on a real modem.
const sendTimeout = 60 * time.Second

// ErrTooLong reports a message that does not fit the 255 segments of a
// concatenated SMS (TS 23.040 §9.2.3.24.1).
var ErrTooLong = errors.New("modem: message too long")

// SendOptions are the optional parts of an SMS-SUBMIT.
type SendOptions struct {
	// StatusReport sets TP-SRR: the network answers with a status report
	// (+CDS) once the message is delivered (TS 23.040 §9.2.3.5).
	StatusReport bool
	// UCS2 forces UCS2 even when the text fits the GSM 7-bit alphabet.
	UCS2 bool
}

// SendText sends text to number in PDU mode: GSM 7-bit when every
// character is in the default alphabet (TS 23.038 §6.2.1), else UCS2, as
// one message or concatenated segments (TS 23.040 §9.2.3.24.1). It
// returns the message reference of each segment.
func (m *Modem) SendText(ctx context.Context, number, text string, opts SendOptions) ([]int, error) {
	if text == "" {
		return nil, errors.New("modem: empty text")
	}
	eopts := []sms.EncoderOption{sms.To(number)}
	msg := []byte(text)
	if opts.UCS2 {
		eopts = append(eopts, sms.AsUCS2)
		msg = utf16be(text)
	}
	pdus, err := m.enc.Encode(msg, eopts...)
	if err != nil {
		return nil, fmt.Errorf("modem: encode text: %w", err)
	}
	if len(pdus) > 255 {
		return nil, ErrTooLong
	}
	return m.sendTPDUs(ctx, pdus, opts)
}

// SendOTA sends a secured command packet (TS 102 225 / TS 31.115) to
// number as the SIM data download message a card's OTA server sends:
// SMS-SUBMIT with PID 0x7F (SIM data download), DCS 0xF6 (8-bit, class 2)
// and a user data header with the command packet identifier, IEI 0x70 of
// length 0 (TS 31.115 §4). A packet longer than one message is
// concatenated; the IEI 0x70 is carried in the first segment only.
func (m *Modem) SendOTA(ctx context.Context, number string, packet []byte, opts SendOptions) ([]int, error) {
	pdus, err := OTASubmits(number, packet, byte(m.enc.ConcatRef.Count()))
	if err != nil {
		return nil, err
	}
	return m.sendTPDUs(ctx, pdus, opts)
}

// OTASubmits builds the SMS-SUBMIT TPDUs that carry packet to number as
// described for SendOTA, cut by ota.Segments; ref is the concatenation
// reference when more than one is needed.
func OTASubmits(number string, packet []byte, ref byte) ([]tpdu.TPDU, error) {
	if len(packet) == 0 {
		return nil, errors.New("modem: empty OTA packet")
	}
	segs, err := ota.Segments(ota.IEICommandPacket, packet, ref)
	if err != nil {
		return nil, ErrTooLong
	}
	t := tpdu.TPDU{Direction: tpdu.MO, PID: 0x7F, DCS: 0xF6}
	t.FirstOctet = t.FirstOctet.WithMTI(tpdu.MtSubmit)
	t.DA.SetNumber(number)
	if !strings.HasPrefix(number, "+") {
		t.DA.SetTypeOfNumber(tpdu.TonUnknown)
	}
	out := make([]tpdu.TPDU, len(segs))
	for i, seg := range segs {
		udh := make(tpdu.UserDataHeader, len(seg.Header))
		for j, ie := range seg.Header {
			udh[j] = tpdu.InformationElement{ID: ie.ID, Data: ie.Data}
		}
		out[i] = t
		out[i].SetUDH(udh)
		out[i].UD = append([]byte(nil), seg.Data...)
	}
	return out, nil
}

func (m *Modem) sendTPDUs(ctx context.Context, pdus []tpdu.TPDU, opts SendOptions) ([]int, error) {
	var mrs []int
	for i := range pdus {
		if opts.StatusReport {
			pdus[i].FirstOctet |= tpdu.FoSRR
		}
		b, err := pdus[i].MarshalBinary()
		if err != nil {
			return mrs, fmt.Errorf("modem: segment %d: %w", i+1, err)
		}
		mr, err := m.SendTPDU(ctx, b)
		if err != nil {
			return mrs, fmt.Errorf("modem: segment %d of %d: %w", i+1, len(pdus), err)
		}
		mrs = append(mrs, mr)
	}
	return mrs, nil
}

// SendTPDU sends one SMS-SUBMIT TPDU with AT+CMGS=<length> in PDU mode
// (TS 27.005 §4.3), using the SMSC stored in the SIM (an empty SMSC
// address in the PDU), and returns the message reference from
// "+CMGS: <mr>".
func (m *Modem) SendTPDU(ctx context.Context, tp []byte) (int, error) {
	p := pdumode.PDU{TPDU: tp}
	s, err := p.MarshalHexString()
	if err != nil {
		return 0, fmt.Errorf("modem: encode PDU: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	lines, err := m.g.SMSCommand(fmt.Sprintf("+CMGS=%d", len(tp)), strings.ToUpper(s),
		at.WithTimeout(m.cmdTimeout(ctx, sendTimeout)))
	if err != nil {
		return 0, fmt.Errorf("modem: AT+CMGS: %w", err)
	}
	l, err := line(lines, "+CMGS")
	if err != nil {
		return 0, err
	}
	f, err := fields(l, "+CMGS")
	if err != nil {
		return 0, err
	}
	mr, err := strconv.Atoi(f[0])
	if err != nil {
		return 0, malformed("+CMGS", 0, "a message reference")
	}
	return mr, nil
}

func utf16be(s string) []byte {
	var b []byte
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			hi, lo := 0xD800+(r>>10), 0xDC00+(r&0x3FF)
			b = append(b, byte(hi>>8), byte(hi), byte(lo>>8), byte(lo))
			continue
		}
		b = append(b, byte(r>>8), byte(r))
	}
	return b
}
