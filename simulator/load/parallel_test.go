package load_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fiorix/go-smpp/smpp"
	gopdu "github.com/fiorix/go-smpp/smpp/pdu"
	"github.com/fiorix/go-smpp/smpp/pdu/pdufield"
	"github.com/fiorix/go-smpp/smpp/pdu/pdutext"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/load"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// wire records what one client's SMPP connections carried, read off the
// wire: the phones it submitted to and the message ids it was given, and
// the answers (MO) and receipts the SMSC handed it.
type wire struct {
	name string

	mu       sync.Mutex
	phones   map[string]bool
	ids      map[string]bool
	answers  []string // MO sources
	receipts []string // receipted message ids
}

func newWire(name string) *wire {
	return &wire{name: name, phones: map[string]bool{}, ids: map[string]bool{}}
}

// dial is a client.Config.Dial that taps the connection.
func (w *wire) dial(ctx context.Context, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &tap{Conn: c, w: w}, nil
}

type tap struct {
	net.Conn
	w          *wire
	rbuf, wbuf []byte
}

func (t *tap) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	t.rbuf = t.w.scan(append(t.rbuf, p[:n]...), true)
	return n, err
}

func (t *tap) Write(p []byte) (int, error) {
	t.wbuf = t.w.scan(append(t.wbuf, p...), false)
	return t.Conn.Write(p)
}

// scan takes the whole PDUs off buf and returns the rest.
func (w *wire) scan(buf []byte, in bool) []byte {
	for len(buf) >= pdu.HeaderLen {
		h, err := pdu.DecodeHeader(buf)
		if err != nil || int(h.Length) > len(buf) {
			break
		}
		w.pdu(h, buf[pdu.HeaderLen:h.Length], in)
		buf = buf[h.Length:]
	}
	return append([]byte(nil), buf...)
}

func (w *wire) pdu(h pdu.Header, body []byte, in bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case !in && h.ID == pdu.CmdSubmitSM:
		var sm pdu.SubmitSM
		if sm.Unmarshal(body) == nil {
			w.phones[strings.TrimPrefix(string(sm.Dest.Addr), "+")] = true
		}
	case in && h.ID == pdu.CmdSubmitSMResp && h.Status == pdu.StatusOK:
		var r pdu.MessageIDResp
		if r.Unmarshal(body) == nil {
			w.ids[string(r.MessageID)] = true
		}
	case in && h.ID == pdu.CmdDeliverSM:
		var d pdu.DeliverSM
		if d.Unmarshal(body) != nil {
			return
		}
		if d.ESMClass&0x3C != 0 {
			id, _ := d.TLVs.CString(pdu.TagReceiptedMessageID)
			w.receipts = append(w.receipts, string(id))
			return
		}
		w.answers = append(w.answers, strings.TrimPrefix(string(d.Source.Addr), "+"))
	}
}

// check fails the test for any answer from a phone the client did not
// challenge and any receipt for a message it did not submit; it returns
// how many answers and receipts came.
func (w *wire) check(t *testing.T) (answers, receipts int) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, a := range w.answers {
		if !w.phones[a] {
			t.Errorf("%s received an answer from %s, a phone it never challenged", w.name, a)
		}
	}
	for _, r := range w.receipts {
		if !w.ids[r] {
			t.Errorf("%s received a receipt for message %s, which it did not submit", w.name, r)
		}
	}
	return len(w.answers), len(w.receipts)
}

// foreign is an ESME built on fiorix/go-smpp's connection, bound as
// transceiver with an address_range (which go-smpp's Transceiver does not
// send): it texts phones from 77700123 and receives what the SMSC routes to
// it.
type foreign struct {
	conn smpp.Conn
	wmu  sync.Mutex // go-smpp's Conn.Write is not safe for concurrent use

	mu       sync.Mutex
	ids      map[string]bool
	acks     chan string
	mo       []string // "from>to"
	receipts []string
	done     chan struct{}
	changed  chan struct{} // a deliver_sm came
}

func dialForeign(t *testing.T, addr string) *foreign {
	t.Helper()
	c, err := smpp.Dial(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := gopdu.NewBindTransceiver()
	f := b.Fields()
	f.Set(pdufield.SystemID, "foreign")
	f.Set(pdufield.Password, "secret")
	f.Set(pdufield.InterfaceVersion, 0x34)
	f.Set(pdufield.AddressRange, "77700*")
	if err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Read()
	if err != nil || resp.Header().ID != gopdu.BindTransceiverRespID || resp.Header().Status != 0 {
		t.Fatalf("go-smpp bind: %v %v", resp, err)
	}
	e := &foreign{conn: c, ids: map[string]bool{}, acks: make(chan string, 16), done: make(chan struct{}), changed: make(chan struct{}, 1)}
	go e.read()
	t.Cleanup(func() { c.Close(); <-e.done })
	return e
}

func (e *foreign) read() {
	defer close(e.done)
	for {
		p, err := e.conn.Read()
		if err != nil {
			return
		}
		h := p.Header()
		switch h.ID {
		case gopdu.SubmitSMRespID:
			e.acks <- p.Fields()[pdufield.MessageID].String()
		case gopdu.DeliverSMID:
			f := p.Fields()
			e.mu.Lock()
			if esm, _ := f[pdufield.ESMClass].Raw().(uint8); esm&0x04 != 0 {
				r, err := smsc.ParseReceipt(f[pdufield.ShortMessage].String())
				if err == nil {
					e.receipts = append(e.receipts, r.ID)
				}
			} else {
				e.mo = append(e.mo, f[pdufield.SourceAddr].String()+">"+f[pdufield.DestinationAddr].String())
			}
			e.mu.Unlock()
			e.write(gopdu.NewDeliverSMRespSeq(h.Seq))
			select {
			case e.changed <- struct{}{}:
			default:
			}
		case gopdu.EnquireLinkID:
			e.write(gopdu.NewEnquireLinkRespSeq(h.Seq))
		}
	}
}

func (e *foreign) write(p gopdu.Body) error {
	e.wmu.Lock()
	defer e.wmu.Unlock()
	return e.conn.Write(p)
}

// text submits a text from 77700123 to phone with a receipt asked, and
// returns its id.
func (e *foreign) text(t *testing.T, phone, text string) string {
	p := gopdu.NewSubmitSM(nil)
	f := p.Fields()
	f.Set(pdufield.SourceAddr, "77700123")
	f.Set(pdufield.SourceAddrTON, 1)
	f.Set(pdufield.DestinationAddr, phone)
	f.Set(pdufield.DestAddrTON, 1)
	f.Set(pdufield.RegisteredDelivery, 1)
	f.Set(pdufield.ShortMessage, pdutext.Raw(text))
	if err := e.write(p); err != nil {
		t.Error(err)
		return ""
	}
	id := <-e.acks
	e.mu.Lock()
	e.ids[id] = true
	e.mu.Unlock()
	return id
}

// waitMessage long-polls the capture API for the next MT to phone since
// start and returns its text.
func waitMessage(ctx context.Context, api, phone string, since time.Time) (string, error) {
	q := url.Values{"to": {phone}, "direction": {"MT"}, "timeout": {"20s"}, "since": {since.UTC().Format(time.RFC3339Nano)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api+"/api/v1/messages/wait?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("wait: %s: %s", resp.Status, b)
	}
	var m struct {
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(b, &m); err != nil || m.Text == nil {
		return "", fmt.Errorf("wait: %v: %s", err, b)
	}
	return *m.Text, nil
}

// TestTwentyClientsInParallel is issue #12's test: twenty clients at once
// on one server, most with default settings (the same system_id and source
// address), each getting exactly its own answers and receipts, read off
// the wire: seven push.Pushers (LoA challenges, OTP read back by capture
// long-poll, an SMS+URL), six `simlab load`-style runs (challenges and
// texts, one system_id), two more capture long-poll waiters, a foreign
// ESME (fiorix/go-smpp) bound with an address_range that texts phones and
// receives their replies and MO to its range, four idle binds (bound
// before any traffic), and a 21st: a transmitter and receiver pair whose
// receiver reconnects.
func TestTwentyClientsInParallel(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	ctx := context.Background()
	start := time.Now()
	var wg sync.WaitGroup
	var wires []*wire
	tapped := func(name string, c client.Config) client.Config {
		w := newWire(name)
		wires = append(wires, w)
		c.Addr, c.Password, c.NoReconnect, c.Dial = s.SMPPAddr, "x", true, w.dial
		return c
	}
	cliPush := func(name string) client.Config {
		return tapped(name, client.Config{SystemID: "simlab-push", AddressRange: "99955500"})
	}

	// 17-20: receivers and transceivers that are bound and ask nothing,
	// bound before anyone submits so that they would see any answer or
	// receipt that goes astray: a plain receiver (the catch-all), one
	// claiming 99955500 as `simlab push` does, and two more loads' binds
	// that never submit.
	idle := []*wire{}
	for k, c := range []client.Config{
		{SystemID: "listener", Mode: client.Receiver},
		{SystemID: "simlab-push", AddressRange: "99955500", Mode: client.Receiver},
		{SystemID: "load"},
		{SystemID: "load"},
	} {
		c = tapped(fmt.Sprintf("idle %d", k), c)
		idle = append(idle, wires[len(wires)-1])
		cl, err := client.Dial(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close(ctx)
	}

	// 1-4: pushers with `simlab push`'s defaults, three challenges each.
	for k := range 4 {
		p, err := push.New(ctx, push.Config{SMPP: cliPush(fmt.Sprintf("pusher %d", k))})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close(ctx)
		wg.Go(func() {
			for i := range 3 {
				loa := []authn.LoA{authn.LoA2, authn.LoA3}[i%2]
				n := simtest.Number(t, "approve", 9400+10*k+i)
				res, err := p.Push(ctx, push.Request{MSISDN: n, LoA: loa, Timeout: 10 * time.Second})
				if err != nil || res.Outcome != "approved" || !res.SignatureValid {
					t.Errorf("pusher %d, %s: %+v %v", k, n, res, err)
				}
			}
		})
	}
	// 5-6: OTPs, read back through the capture API (long-poll).
	for k := range 2 {
		p, err := push.New(ctx, push.Config{SMPP: cliPush(fmt.Sprintf("otp pusher %d", k))})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close(ctx)
		wg.Go(func() {
			for i := range 2 {
				n := fleet.FleetNumber(30_500 + 10*k + i)
				res, err := p.PushOTP(ctx, push.OTPRequest{MSISDN: n, API: s.URL, Timeout: 10 * time.Second})
				if err != nil || res.Outcome != "approved" {
					t.Errorf("OTP pusher %d, %s: %+v %v", k, n, res, err)
				}
			}
		})
	}
	// 7: SMS+URL.
	{
		p, err := push.New(ctx, push.Config{SMPP: cliPush("url pusher")})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close(ctx)
		wg.Go(func() {
			n := fleet.FleetNumber(30_600)
			res, err := p.PushURL(ctx, push.URLRequest{MSISDN: n, Timeout: 10 * time.Second})
			if err != nil || res.Outcome != "approved" {
				t.Errorf("URL pusher, %s: %+v %v", n, res, err)
			}
		})
	}
	// 8-13: loads, all with system_id "load": four of challenges, two of
	// texts with receipts.
	for k, kind := range []string{load.KindLoA3, load.KindLoA2, load.KindLoA3, load.KindLoA3Fallback2, load.KindText, load.KindText} {
		first := 30_000 + 100*k
		nums, err := load.ParseRange(fleet.FleetNumber(first) + "-" + fleet.FleetNumber(first+19))
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("load %d (%s)", k, kind)
		d, err := load.NewTarget(ctx, load.TargetConfig{SMPP: tapped(name, client.Config{SystemID: "load"}), Binds: 2,
			Kind: kind, Numbers: nums, PromptTimeout: 8 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close(ctx)
		want := map[string]string{load.KindText: "delivered"}[kind]
		if want == "" {
			want = "approved"
		}
		wg.Go(func() {
			rep, err := load.Run(ctx, load.Config{Rate: 20, Duration: time.Second, Timeout: 10 * time.Second}, d)
			if err != nil {
				t.Error(err)
				return
			}
			if rep.Sent != 20 || rep.Outcomes[want] != 20 {
				t.Errorf("%s: sent %d = completed %d + failed %d + timed out %d, outcomes %v, errors %v",
					name, rep.Sent, rep.Completed, rep.Failed, rep.TimedOut, rep.Outcomes, rep.Errors)
			}
		})
	}
	// 14: the foreign ESME; 15-16: capture waiters for the texts it sends.
	fe := dialForeign(t, s.SMPPAddr)
	texts := map[string]string{}
	for k := range 2 {
		n := fleet.FleetNumber(30_700 + k)
		texts[n] = fmt.Sprintf("hello %d from the foreign ESME", k)
		wg.Go(func() {
			got, err := waitMessage(ctx, s.URL, n, start)
			if err != nil || got != texts[n] {
				t.Errorf("capture waiter for %s: %q %v, want %q", n, got, err, texts[n])
			}
		})
	}
	var feIDs []string
	wg.Go(func() {
		for n, text := range texts {
			feIDs = append(feIDs, fe.text(t, n, text))
		}
		for _, n := range []string{fleet.FleetNumber(30_710), fleet.FleetNumber(30_711)} {
			feIDs = append(feIDs, fe.text(t, n, "reply STOP to stop"))
		}
	})
	// 21: Kannel's shape, a transmitter and a receiver of one system_id
	// whose receiver reconnects: the answer that comes while it is away
	// waits for the new receiver rather than going to another client.
	kannel := newWire("kannel tx/rx")
	wires = append(wires, kannel)
	wg.Go(func() { kannelClient(ctx, t, s, kannel) })
	wg.Wait()

	// The phones texted by the foreign ESME answer it, and an MO to its
	// range from a phone it never texted reaches it too.
	for _, n := range []string{fleet.FleetNumber(30_710), fleet.FleetNumber(30_711)} {
		if _, err := s.SMSC().SubmitMO(ctx, &smsc.Message{Source: smsc.Address{TON: 1, NPI: 1, Addr: n},
			Dest: smsc.Address{TON: 1, NPI: 1, Addr: "77700123"}, Body: []byte("STOP")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SMSC().SubmitMO(ctx, &smsc.Message{Source: smsc.Address{TON: 1, NPI: 1, Addr: fleet.FleetNumber(30_712)},
		Dest: smsc.Address{TON: 1, NPI: 1, Addr: "77700999"}, Body: []byte("INFO")}); err != nil {
		t.Fatal(err)
	}
	wantMO := map[string]bool{
		fleet.FleetNumber(30_710) + ">77700123": true, fleet.FleetNumber(30_711) + ">77700123": true,
		fleet.FleetNumber(30_712) + ">77700999": true,
	}
	fe.await(t, func() bool { return len(fe.mo) >= len(wantMO) && len(fe.receipts) >= len(feIDs) })
	fe.mu.Lock()
	for _, m := range fe.mo {
		if !wantMO[m] {
			t.Errorf("the foreign ESME received MO %s", m)
		}
	}
	for _, r := range fe.receipts {
		if !fe.ids[r] {
			t.Errorf("the foreign ESME received a receipt for %s, not its own", r)
		}
	}
	if len(fe.mo) != len(wantMO) || len(fe.receipts) != len(feIDs) {
		t.Errorf("the foreign ESME received %d MO (%v) and %d receipts (%v), want %d and %d", len(fe.mo), fe.mo, len(fe.receipts), fe.receipts, len(wantMO), len(feIDs))
	}
	fe.mu.Unlock()

	for _, w := range wires {
		w.check(t)
	}
	for _, w := range idle {
		if a, r := w.check(t); a != 0 || r != 0 {
			t.Errorf("%s asked nothing but received %d answers and %d receipts", w.name, a, r)
		}
	}
}

// kannelClient texts two phones from 88800123 over a transmitter bind and
// takes their receipts on a receiver bind of the same system_id; the
// receiver unbinds, a phone answers, and a new receiver bind gets the
// answer. The wire records all three connections.
func kannelClient(ctx context.Context, t *testing.T, s *simtest.Server, w *wire) {
	delivers := make(chan *client.Deliver, 16)
	cfg := func(mode client.BindMode) client.Config {
		return client.Config{Addr: s.SMPPAddr, SystemID: "kannel", Password: "x", Mode: mode, NoReconnect: true, Dial: w.dial,
			OnDeliver: func(d *client.Deliver) uint32 { delivers <- d; return 0 }}
	}
	tx, err := client.Dial(ctx, cfg(client.Transmitter))
	if err != nil {
		t.Error(err)
		return
	}
	defer tx.Close(ctx)
	rx, err := client.Dial(ctx, cfg(client.Receiver))
	if err != nil {
		t.Error(err)
		return
	}
	phones := []string{fleet.FleetNumber(30_720), fleet.FleetNumber(30_721)}
	for _, n := range phones {
		if _, err := tx.Submit(ctx, &client.Message{Source: client.Address{TON: 1, NPI: 1, Addr: "88800123"},
			Dest: client.Address{TON: 1, NPI: 1, Addr: n}, RegisteredDelivery: 1, ShortMessage: []byte("reply YES")}); err != nil {
			t.Error(err)
			return
		}
	}
	timeout := time.After(20 * time.Second)
	next := func() *client.Deliver {
		select {
		case d := <-delivers:
			return d
		case <-timeout:
			return nil
		}
	}
	for range phones {
		if d := next(); d == nil || d.Receipt == nil {
			t.Errorf("kannel: want a receipt on the receiver, got %+v", d)
			return
		}
	}
	if err := rx.Close(ctx); err != nil {
		t.Error(err)
	}
	if _, err := s.SMSC().SubmitMO(ctx, &smsc.Message{Source: smsc.Address{TON: 1, NPI: 1, Addr: phones[0]},
		Dest: smsc.Address{TON: 1, NPI: 1, Addr: "88800123"}, Body: []byte("YES")}); err != nil {
		t.Error(err)
		return
	}
	rx2, err := client.Dial(ctx, cfg(client.Receiver))
	if err != nil {
		t.Error(err)
		return
	}
	defer rx2.Close(ctx)
	if d := next(); d == nil || d.Receipt != nil || strings.TrimPrefix(d.Source.Addr, "+") != phones[0] {
		t.Errorf("kannel: the reconnected receiver got %+v, want the answer from %s", d, phones[0])
	}
}

// await waits until cond (called with e.mu held) holds, woken by each
// deliver_sm; it gives up after 20 s.
func (e *foreign) await(t *testing.T, cond func() bool) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		e.mu.Lock()
		ok := cond()
		e.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-e.changed:
		case <-timeout:
			t.Fatal("the foreign ESME's MO and receipts never all came")
		}
	}
}
