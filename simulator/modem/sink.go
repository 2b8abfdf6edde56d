package modem

import (
	"context"
	"errors"
	"strings"
	"unicode/utf16"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/warthog618/modem/at"
	"github.com/warthog618/sms/encoding/gsm7"
)

// Sink is an smsc.Sink that carries messages over a modem: the SMSC routes
// destinations the simulator does not own to it (`simlab serve --bearer
// modem:PORT`). Deliver returns once the modem's network accepted the
// message (AT+CMGS answered +CMGS); the handset's status report, when one
// was requested, arrives later through Bearer.Run.
type Sink struct {
	Bearer *Bearer
	// OnSent, when set, is told the message references the modem reported
	// for m, so the caller can match later status reports (Event.MR).
	OnSent func(m *smsc.Message, mrs []int)
}

var _ smsc.Sink = (*Sink)(nil)

// Deliver sends m over the modem (SubmitOf). A message the modem's network
// refuses for good (+CMS ERROR 300–305, invalid parameters) is a permanent
// *smsc.DeliveryError; anything else a temporary one, retried by the SMSC.
func (s *Sink) Deliver(ctx context.Context, m *smsc.Message) error {
	sub, err := SubmitOf(m)
	if err != nil {
		return &smsc.DeliveryError{Code: 0, Permanent: true, Reason: err.Error()}
	}
	mrs, err := s.Bearer.Send(ctx, sub)
	if err != nil {
		var cms at.CMSError
		permanent := errors.As(err, &cms) && len(cms) == 3 && cms >= "300" && cms <= "305"
		return &smsc.DeliveryError{Code: 0, Permanent: permanent, Reason: err.Error()}
	}
	if s.OnSent != nil {
		s.OnSent(m, mrs)
	}
	return nil
}

// SubmitOf maps an SMSC message to the SMS-SUBMIT fields (TS 23.040): the
// destination with '+' for an international TON, protocol_id → TP-PID,
// data_coding → TP-DCS (IA5 and Latin-1 text re-encoded as GSM 7-bit or
// UCS2, the SMPP binary codes 0x02/0x04 as 8-bit 0x04), the UDH without its
// length octet, and registered_delivery → TP-SRR.
func SubmitOf(m *smsc.Message) (Submit, error) {
	to := m.Dest.Addr
	if m.Dest.TON == 1 && !strings.HasPrefix(to, "+") {
		to = "+" + to
	}
	s := Submit{To: to, PID: m.PID, DCS: m.DCS, UD: m.Body, StatusReport: m.RegisteredDelivery&3 != 0}
	if len(m.UDH) > 1 {
		s.UDH = m.UDH[1:]
	}
	switch dc := m.DCS; {
	case dc == 0x01 || dc == 0x03:
		text, ok := smsc.DecodeText(dc, m.Body)
		if !ok {
			return Submit{}, errors.New("modem: undecodable text")
		}
		if sept, err := gsm7.Encode([]byte(text)); err == nil {
			s.DCS, s.UD = 0x00, sept
		} else {
			s.DCS, s.UD = 0x08, utf16be(text)
		}
	case dc == 0x02 || (dc >= 0x04 && dc < 0x08) || (dc > 0x08 && dc < 0x10):
		s.DCS = 0x04
	}
	return s, nil
}

// MO turns a received message into a mobile-originated smsc.Message from
// e.From to dest (the number the SMSC should route it by, e.g. the SUT's
// short code the handset replied to), for smsc.Server.SubmitMO. It returns
// nil for status reports and errors.
func (e Event) MO(dest string) *smsc.Message {
	if e.Kind != KindDeliver && e.Kind != KindStored {
		return nil
	}
	m := &smsc.Message{PID: e.PID, DCS: e.DCS}
	m.Source = smscAddress(e.From)
	m.Dest = smscAddress(dest)
	switch {
	case e.Data != nil:
		m.Body = append([]byte(nil), e.Data...)
		if e.DCS < 0x10 {
			m.DCS = 0x04
		}
	default:
		if sept, err := gsm7.Encode([]byte(e.Text)); err == nil {
			m.DCS, m.Body = 0x00, sept
		} else {
			u := utf16.Encode([]rune(e.Text))
			b := make([]byte, 0, 2*len(u))
			for _, x := range u {
				b = append(b, byte(x>>8), byte(x))
			}
			m.DCS, m.Body = 0x08, b
		}
	}
	return m
}

func smscAddress(n string) smsc.Address {
	if strings.HasPrefix(n, "+") {
		return smsc.Address{TON: 1, NPI: 1, Addr: n[1:]}
	}
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return smsc.Address{TON: 5, NPI: 0, Addr: n}
		}
	}
	return smsc.Address{TON: 0, NPI: 1, Addr: n}
}
