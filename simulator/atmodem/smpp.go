package atmodem

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/simlab-dev/simlab/smsc/client"
	"github.com/warthog618/sms/encoding/gsm7"
	"github.com/warthog618/sms/encoding/tpdu"
)

// SMPPBackend binds the emulated modem to an SMSC as an SMPP transceiver
// (SMPP v3.4 §4.1.5) whose address_range is the modem's MSISDN, so the
// SMSC routes messages for that number to it. Each SMS-SUBMIT becomes a
// submit_sm from the MSISDN; each deliver_sm becomes an SMS-DELIVER, and a
// delivery receipt for a message the modem sent becomes an
// SMS-STATUS-REPORT carrying that message's reference. Set the fields,
// then call Start.
type SMPPBackend struct {
	// Addr is the SMSC's host:port.
	Addr string
	// SystemID, Password and SystemType are the bind credentials. The
	// password is never logged.
	SystemID, Password, SystemType string
	// MSISDN is the modem's subscriber number: the source of what it sends
	// and the address_range of the bind.
	MSISDN string
	// Now stamps SMS-DELIVERs; time.Now when nil.
	Now func() time.Time
	// Log receives one line per message and bind state change.
	Log func(format string, args ...any)

	c  *client.Client
	in chan Incoming
	// qmu makes checking room in in and queueing every part of one
	// deliver_sm one step: all parts go in, or none (a refusal the SMSC
	// retries must not leave parts already queued, which the retry would
	// deliver twice).
	qmu sync.Mutex

	mu      sync.Mutex
	mr      byte
	ref     byte
	reports map[string]sentMessage
	order   []string
	// early holds receipts that overtook their submit_sm_resp: the SMSC may
	// deliver the receipt before Submit has recorded the message id.
	early      map[string]*client.Receipt
	earlyOrder []string
}

// sentMessage remembers what a status report needs about a submitted
// message.
type sentMessage struct {
	mr byte
	ra tpdu.Address
}

// keepReports bounds how many submitted messages wait for a receipt.
const keepReports = 4096

// Start binds to the SMSC and returns once bound (the client reconnects by
// itself afterwards) or when ctx ends.
func (b *SMPPBackend) Start(ctx context.Context) error {
	if b.MSISDN == "" {
		return errors.New("atmodem: SMPP backend needs an MSISDN")
	}
	b.in = make(chan Incoming, 256)
	b.reports = map[string]sentMessage{}
	b.early = map[string]*client.Receipt{}
	cfg := client.Config{
		Addr: b.Addr, SystemID: b.SystemID, Password: b.Password, SystemType: b.SystemType,
		Mode: client.Transceiver, AddrTON: 1, AddrNPI: 1,
		AddressRange:   strings.TrimPrefix(b.MSISDN, "+"),
		OnDeliverLater: b.onDeliver,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnState: func(bound bool, err error) {
			if bound {
				b.logf("smpp: bound to %s as %s for %s", b.Addr, b.SystemID, b.MSISDN)
			} else {
				b.logf("smpp: link to %s lost: %v", b.Addr, err)
			}
		},
	}
	c, err := client.Dial(ctx, cfg)
	if err != nil {
		return fmt.Errorf("atmodem: bind to %s: %w", b.Addr, err)
	}
	b.c = c
	return nil
}

// Close unbinds.
func (b *SMPPBackend) Close() error {
	if b.c == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return b.c.Close(ctx)
}

func (b *SMPPBackend) logf(format string, args ...any) {
	if b.Log != nil {
		b.Log(format, args...)
	}
}

func (b *SMPPBackend) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// Incoming yields the SMS-DELIVERs and status reports built from
// deliver_sm.
func (b *SMPPBackend) Incoming() <-chan Incoming { return b.in }

// Submit sends the SMS-SUBMIT as submit_sm (SubmitFromTPDU) and returns a
// fresh message reference.
func (b *SMPPBackend) Submit(ctx context.Context, tp []byte) (byte, error) {
	if b.c == nil {
		return 0, CMSNoNetworkService
	}
	var t tpdu.TPDU
	t.Direction = tpdu.MO
	if err := t.UnmarshalBinary(tp); err != nil {
		return 0, CMSInvalidPDUParameter
	}
	m, err := SubmitFromTPDU(&t, b.MSISDN)
	if err != nil {
		return 0, CMSInvalidPDUParameter
	}
	id, err := b.c.Submit(ctx, m)
	if err != nil {
		b.logf("smpp: submit_sm to %s failed: %v", m.Dest.Addr, err)
		var se *client.StatusError
		if errors.As(err, &se) {
			return 0, CMSUnknownError
		}
		return 0, CMSNetworkTimeout
	}
	b.mu.Lock()
	b.mr++
	mr := b.mr
	var early *client.Receipt
	if t.FirstOctet.SRR() {
		b.reports[id] = sentMessage{mr: mr, ra: t.DA}
		b.order = append(b.order, id)
		if len(b.order) > keepReports {
			delete(b.reports, b.order[0])
			b.order = b.order[1:]
		}
		if r, ok := b.early[id]; ok {
			early = r
			delete(b.early, id)
		}
	}
	b.mu.Unlock()
	b.logf("smpp: submit_sm to %s accepted as %s (mr %d)", m.Dest.Addr, id, mr)
	if early != nil {
		if tps, err := b.statusReport(early); err == nil {
			// Never block: the modem that reads b.in is the one waiting
			// for this Submit.
			b.qmu.Lock()
			ok := b.enqueue(incoming(tps, nil))
			b.qmu.Unlock()
			if !ok {
				b.logf("smpp: queue full: status report for %s dropped", id)
			}
		}
	}
	return mr, nil
}

// SubmitFromTPDU maps an SMS-SUBMIT (TS 23.040 §9.2.2.2) to a submit_sm
// body (SMPP v3.4 §4.4.1) from source: TP-DA → destination (TON/NPI from
// the type of address), TP-PID → protocol_id, TP-DCS → data_coding (the
// values below 0x10 reduced to 0x00 GSM, 0x04 8-bit, 0x08 UCS2), TP-UDHI →
// esm_class 0x40 with the header in short_message, TP-SRR →
// registered_delivery 1. GSM 7-bit user data travels unpacked, one septet
// per octet.
func SubmitFromTPDU(t *tpdu.TPDU, source string) (*client.Message, error) {
	m := &client.Message{
		Source:     client.Address{TON: 1, NPI: 1, Addr: strings.TrimPrefix(source, "+")},
		Dest:       client.Address{TON: (t.DA.TOA >> 4) & 7, NPI: t.DA.TOA & 0x0f, Addr: t.DA.Addr},
		ProtocolID: t.PID,
		DataCoding: byte(t.DCS),
	}
	if !strings.HasPrefix(source, "+") {
		m.Source.TON = 0
	}
	if m.DataCoding < 0x10 {
		m.DataCoding &= 0x0c
	}
	if t.FirstOctet.SRR() {
		m.RegisteredDelivery = 1
	}
	if len(t.UDH) > 0 {
		udh, err := t.UDH.MarshalBinary()
		if err != nil {
			return nil, err
		}
		m.ESMClass |= 0x40
		m.ShortMessage = append(m.ShortMessage, udh...)
	}
	m.ShortMessage = append(m.ShortMessage, t.UD...)
	return m, nil
}

// onDeliver runs on the client's reader: it must not block. A receipt is
// answered at once. A message is answered once the modem has taken every
// TPDU it became, with what the mobile station said (deliverStatus): so a
// SIM data download the card refused is not recorded as delivered. One the
// modem cannot be handed (undecodable, queue full) is refused at once.
func (b *SMPPBackend) onDeliver(d *client.Deliver, respond func(uint32)) {
	if d.Receipt != nil {
		b.qmu.Lock()
		// A receipt is one status report. Room is checked before the
		// submitted message's record is used up, so the SMSC's retry of
		// a refused receipt still finds it.
		if len(b.in) >= cap(b.in) {
			b.qmu.Unlock()
			respond(client.StatusXTAppn) // the SMSC retries later
			return
		}
		tps, err := b.statusReport(d.Receipt)
		if err != nil {
			b.logf("smpp: receipt %s dropped: %v", d.Receipt.ID, err)
		}
		ok := b.enqueue(incoming(tps, nil))
		b.qmu.Unlock()
		if !ok {
			b.logf("smpp: receipt %s dropped: queue full", d.Receipt.ID)
		}
		respond(client.StatusOK)
		return
	}
	b.mu.Lock()
	b.ref++
	ref := b.ref
	b.mu.Unlock()
	tps, err := DeliverFromSMPP(&d.Message, b.now(), ref)
	if err != nil {
		b.logf("smpp: deliver_sm from %s refused: %v", d.Source.Addr, err)
		respond(client.StatusXPAppn)
		return
	}
	r := &partReports{left: len(tps), respond: respond}
	b.qmu.Lock()
	ok := b.enqueue(incoming(tps, r.report))
	b.qmu.Unlock()
	if !ok {
		respond(client.StatusXTAppn) // none queued; the SMSC retries later
		return
	}
	b.logf("smpp: deliver_sm from %s to %s (%d TPDU)", d.Source.Addr, d.Dest.Addr, len(tps))
}

// enqueue queues every item, or none when they do not all fit; the
// caller holds qmu (every producer does, so the room checked stays).
func (b *SMPPBackend) enqueue(items []Incoming) bool {
	if len(b.in)+len(items) > cap(b.in) {
		return false
	}
	for _, it := range items {
		b.in <- it // cannot block: the room was checked under qmu
	}
	return true
}

// incoming makes the Incoming of each TPDU, with report.
func incoming(tps [][]byte, report func(byte)) []Incoming {
	out := make([]Incoming, len(tps))
	for i, tp := range tps {
		out[i] = Incoming{TPDU: tp, Report: report}
	}
	return out
}

// partReports collects the mobile station's answers to the TPDUs of one
// deliver_sm and answers the SMSC when the last one is in.
type partReports struct {
	mu      sync.Mutex
	left    int
	fcs     byte
	respond func(uint32)
}

func (r *partReports) report(fcs byte) {
	r.mu.Lock()
	if r.fcs == 0 {
		r.fcs = fcs
	}
	r.left--
	done, first := r.left == 0, r.fcs
	r.mu.Unlock()
	if done {
		r.respond(deliverStatus(first))
	}
}

// deliverStatus is the deliver_sm_resp command_status for the mobile
// station's answer: ESME_ROK for RP-ACK; ESME_RX_T_APPN (the SMSC retries)
// when the SIM toolkit was busy (D4, TS 31.111 §7.1.1.2 "the ME may
// retry"); ESME_RX_P_APPN (permanent) for any other TP-FCS.
func deliverStatus(fcs byte) uint32 {
	switch fcs {
	case 0:
		return client.StatusOK
	case FCSToolkitBusy:
		return client.StatusXTAppn
	}
	return client.StatusXPAppn
}

// statusReport turns a delivery receipt for a message the modem sent into
// an SMS-STATUS-REPORT; receipts for other messages are dropped.
func (b *SMPPBackend) statusReport(r *client.Receipt) ([][]byte, error) {
	b.mu.Lock()
	sent, ok := b.reports[r.ID]
	if ok && !isIntermediate(r.Stat) {
		delete(b.reports, r.ID)
	}
	if !ok {
		// Perhaps the receipt overtook the submit_sm_resp: keep it for
		// Submit to find.
		b.early[r.ID] = r
		b.earlyOrder = append(b.earlyOrder, r.ID)
		if len(b.earlyOrder) > keepReports {
			delete(b.early, b.earlyOrder[0])
			b.earlyOrder = b.earlyOrder[1:]
		}
		b.mu.Unlock()
		return nil, nil
	}
	b.mu.Unlock()
	done := r.DoneDate
	if done.IsZero() {
		done = b.now()
	}
	tp, err := StatusReport(sent.mr, sent.ra, receiptStatus(r.Stat), b.now(), done)
	if err != nil {
		return nil, err
	}
	b.logf("smpp: receipt for %s (mr %d): %s", r.ID, sent.mr, r.Stat)
	return [][]byte{tp}, nil
}

func isIntermediate(stat string) bool {
	s := strings.ToUpper(stat)
	return s == "ENROUTE" || s == "ACCEPTD"
}

// receiptStatus maps the receipt's stat word (SMPP v3.4 Appendix B) to
// TP-Status (TS 23.040 §9.2.3.15).
func receiptStatus(stat string) byte {
	switch strings.ToUpper(stat) {
	case "DELIVRD":
		return 0x00 // short message received by the SME
	case "ENROUTE", "ACCEPTD":
		return 0x20 // congestion, SC still trying
	case "EXPIRED":
		return 0x46 // SM validity period expired
	case "DELETED":
		return 0x48 // SM deleted by SC administration
	case "REJECTD":
		return 0x41 // incompatible destination
	case "UNDELIV":
		return 0x40 // remote procedure error
	}
	return 0x60 // temporary error, SC not making any more attempts
}

// DeliverFromSMPP maps a deliver_sm body to one or more SMS-DELIVER TPDUs
// (TS 23.040 §9.2.2.1) stamped scts: source → TP-OA (a leading "+" becomes
// the international type of number), protocol_id →
// TP-PID, data_coding → TP-DCS (IA5 and Latin-1 text re-encoded as GSM
// 7-bit or UCS2, SMPP binary codes as 0x04), esm_class UDHI → TP-UDHI.
// User data too long for one message (from message_payload) is split into
// concatenated segments with reference ref.
func DeliverFromSMPP(m *client.Message, scts time.Time, ref byte) ([][]byte, error) {
	body := m.ShortMessage
	if len(body) == 0 {
		body = m.TLV(0x0424) // message_payload, SMPP v3.4 §5.3.2.32
	}
	t := tpdu.TPDU{Direction: tpdu.MT, PID: m.ProtocolID, SCTS: tpdu.Timestamp{Time: scts}}
	t.FirstOctet = t.FirstOctet.WithMTI(tpdu.MtDeliver)
	t.OA.TOA = 0x80 | (m.Source.TON&7)<<4 | m.Source.NPI&0x0f
	t.OA.Addr = m.Source.Addr
	switch {
	case m.Source.TON == 5:
		t.OA.TOA = 0xD0
	case strings.HasPrefix(t.OA.Addr, "+"):
		// An ESME writing the international form: TP-OA holds digits
		// only, the "+" is the type of number (TS 23.040 §9.1.2.5).
		t.OA.Addr = t.OA.Addr[1:]
		t.OA.TOA = 0x91
		if m.Source.NPI != 0 {
			t.OA.TOA = 0x90 | m.Source.NPI&0x0f
		}
	}
	if m.ESMClass&0x40 != 0 {
		if len(body) == 0 || int(body[0])+1 > len(body) {
			return nil, fmt.Errorf("atmodem: deliver_sm: user data header length %d exceeds short_message", len(body))
		}
		var udh tpdu.UserDataHeader
		if _, err := udh.UnmarshalBinary(body); err != nil {
			return nil, fmt.Errorf("atmodem: deliver_sm: user data header: %w", err)
		}
		t.SetUDH(udh)
		body = body[int(body[0])+1:]
	}
	dc := m.DataCoding
	switch {
	case dc == 0x01 || dc == 0x03:
		text := string(body)
		if dc == 0x03 {
			r := make([]rune, len(body))
			for i, c := range body {
				r[i] = rune(c)
			}
			text = string(r)
		}
		if sept, err := gsm7.Encode([]byte(text)); err == nil {
			t.DCS, body = 0x00, sept
		} else {
			u := utf16.Encode([]rune(text))
			b := make([]byte, 0, 2*len(u))
			for _, x := range u {
				b = append(b, byte(x>>8), byte(x))
			}
			t.DCS, body = 0x08, b
		}
	case dc == 0x00 || dc == 0x08 || dc >= 0x10:
		t.DCS = tpdu.DCS(dc)
	default:
		t.DCS = 0x04
	}
	if _, err := t.DCS.Alphabet(); err != nil {
		return nil, fmt.Errorf("atmodem: deliver_sm: data_coding %#02x: %w", dc, err)
	}
	var segs []tpdu.TPDU
	if len(body) <= t.UDBlockSize() {
		t.UD = body
		segs = []tpdu.TPDU{t}
	} else {
		segs = t.Segment(body, tpdu.WithConcatRef(constCounter(ref)))
	}
	out := make([][]byte, 0, len(segs))
	for i := range segs {
		b, err := segs[i].MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("atmodem: deliver_sm: segment %d: %w", i+1, err)
		}
		out = append(out, b)
	}
	return out, nil
}

// constCounter is a tpdu.Counter that always answers the same value.
type constCounter byte

// Count returns the fixed value.
func (c constCounter) Count() int { return int(c) }
