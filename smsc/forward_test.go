package smsc_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// scriptPhone is a Phone whose answers follow a script (nil = delivered
// once the script runs out).
type scriptPhone struct {
	mu     sync.Mutex
	script []error
	always error
	calls  []phoneCall
}

type phoneCall struct {
	at    time.Time
	m     *smsc.Message
	tpdus [][]byte
}

func (p *scriptPhone) DeliverSMS(_ context.Context, m *smsc.Message, tpdus [][]byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, phoneCall{at: time.Now(), m: m.Clone(), tpdus: tpdus})
	if len(p.script) > 0 {
		err := p.script[0]
		p.script = p.script[1:]
		return err
	}
	return p.always
}

func (p *scriptPhone) callTimes(since time.Time) []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []time.Duration
	for _, c := range p.calls {
		out = append(out, c.at.Sub(since))
	}
	return out
}

// receipt reads the next deliver_sm, answers it and parses the receipt.
func (e *esme) receipt(t *testing.T) (*smsc.Receipt, *pdu.DeliverSM) {
	t.Helper()
	h, b := e.read()
	for h.ID == pdu.CmdEnquireLink { // the server checks on idle links
		e.raw(pdu.Append(nil, pdu.CmdEnquireLinkResp, 0, h.Seq, nil))
		h, b = e.read()
	}
	if h.ID != pdu.CmdDeliverSM {
		t.Fatalf("got %v, want deliver_sm", h.ID)
	}
	e.raw(pdu.Append(nil, pdu.CmdDeliverSMResp, 0, h.Seq, &pdu.MessageIDResp{}))
	var d pdu.DeliverSM
	if err := d.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	r, err := smsc.ParseReceipt(string(d.ShortMessage))
	if err != nil {
		t.Fatalf("receipt %q: %v", d.ShortMessage, err)
	}
	return r, &d
}

func eqDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestStoreAndForward: retries with backoff for an absent subscriber,
// intermediate and final receipts, validity expiry, schedule, permanent
// failure, receipts for failures only; all in fake time.
func TestStoreAndForward(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		routes := &smsc.Routes{}
		flaky := &scriptPhone{script: []error{smsc.ErrAbsent, smsc.ErrBusy}}
		gone := &scriptPhone{always: smsc.ErrAbsent}
		fine := &scriptPhone{}
		unknown := &scriptPhone{always: smsc.ErrUnknown}
		routes.AddNumber("99900000010", smsc.PhoneSink{Phone: flaky})
		routes.AddNumber("99900000011", smsc.PhoneSink{Phone: gone})
		routes.AddNumber("99900000012", smsc.PhoneSink{Phone: fine})
		routes.AddNumber("99900000013", smsc.PhoneSink{Phone: unknown})
		srv := &smsc.Server{Router: routes, RetryMin: 5 * time.Second, RetryMax: time.Minute, IDFormat: smsc.IDHex}
		defer shutdown(t, srv)
		e := pipeSession(t, srv)
		e.bind(pdu.CmdBindTransceiver, "sut", "pw", pdu.StatusOK)
		start := time.Now()

		// Absent, then busy, then delivered: intermediate notifications
		// (registered_delivery 0x10) and the final receipt.
		sm := textSM("99900000010", "hello flaky")
		sm.RegisteredDelivery = 0x11
		id := e.submit(sm, pdu.StatusOK)
		for i, want := range []struct {
			st  smsc.State
			err uint16
			esm uint8
		}{{smsc.Enroute, 27, 0x20}, {smsc.Enroute, 31, 0x20}, {smsc.Delivered, 0, 0x04}} {
			r, d := e.receipt(t)
			if r.ID != id || r.State != want.st || r.Err != want.err || d.ESMClass != want.esm {
				t.Errorf("receipt %d: %+v esm %#x, want %v err %d", i, r, d.ESMClass, want.st, want.err)
			}
			if rid, _ := d.TLVs.CString(pdu.TagReceiptedMessageID); string(rid) != id {
				t.Errorf("receipted_message_id %q, want %q", rid, id)
			}
		}
		if got := flaky.callTimes(start); !eqDurations(got, []time.Duration{0, 5 * time.Second, 15 * time.Second}) {
			t.Errorf("attempts at %v", got)
		}

		// Always absent with a validity of one minute: EXPIRED, err 027,
		// when the minute ends (docs/numbers.md), not at the last attempt
		// (35 s) although no retry fits after it.
		start = time.Now()
		sm = textSM("99900000011", "never")
		sm.RegisteredDelivery = 1
		sm.ValidityPeriod = []byte("000000000100000R")
		id = e.submit(sm, pdu.StatusOK)
		r, d := e.receipt(t)
		if r.ID != id || r.State != smsc.Expired || r.Err != 27 {
			t.Errorf("expiry receipt %+v", r)
		}
		if at := time.Since(start); at != time.Minute {
			t.Errorf("expired after %v, want the validity period, 1m0s", at)
		}
		if nec, _ := d.TLVs.Get(pdu.TagNetworkErrorCode); string(nec) != "\x03\x00\x1b" {
			t.Errorf("network_error_code % x", nec)
		}
		if st, _ := d.TLVs.Uint8(pdu.TagMessageState); st != uint8(smsc.Expired) {
			t.Errorf("message_state %d", st)
		}
		if got := gone.callTimes(start); !eqDurations(got, []time.Duration{0, 5 * time.Second, 15 * time.Second, 35 * time.Second}) {
			t.Errorf("attempts at %v", got)
		}

		// Scheduled ten minutes ahead: SCHEDULED until then.
		start = time.Now()
		sm = textSM("99900000012", "later")
		sm.RegisteredDelivery = 1
		sm.ScheduleDeliveryTime = []byte("000000001000000R")
		id = e.submit(sm, pdu.StatusOK)
		synctest.Wait()
		if m, _ := srv.Store.Get(context.Background(), id); m.State != smsc.Scheduled {
			t.Errorf("state before schedule %v", m.State)
		}
		if r, _ := e.receipt(t); r.ID != id || r.State != smsc.Delivered {
			t.Errorf("scheduled receipt %+v", r)
		}
		if got := fine.callTimes(start); !eqDurations(got, []time.Duration{10 * time.Minute}) {
			t.Errorf("scheduled delivery at %v", got)
		}

		// Unknown subscriber: permanent, UNDELIVERABLE, receipt asked for
		// failures only. A success with failures-only asks nothing.
		sm = textSM("99900000012", "ok, no receipt")
		sm.RegisteredDelivery = 2
		e.submit(sm, pdu.StatusOK)
		sm = textSM("99900000013", "to nobody")
		sm.RegisteredDelivery = 2
		id = e.submit(sm, pdu.StatusOK)
		if r, _ := e.receipt(t); r.ID != id || r.State != smsc.Undeliverable || r.Err != 1 {
			t.Errorf("failure receipt %+v", r)
		}
		if got := len(unknown.callTimes(start)); got != 1 {
			t.Errorf("%d attempts on a permanent failure", got)
		}
		// query_sm names the same (hex) id.
		b := e.call(pdu.CmdQuerySM, &pdu.QuerySM{MessageID: []byte(id)}, pdu.StatusOK)
		var q pdu.QuerySMResp
		q.Unmarshal(b)
		if string(q.MessageID) != id || q.MessageState != uint8(smsc.Undeliverable) || q.ErrorCode != 1 {
			t.Errorf("query_sm_resp %+v", q)
		}
		synctest.Wait()
		st := srv.Stats()
		want := smsc.Stats{Sessions: 1, Bound: 1, Accepted: 5, Delivered: 3, Failed: 2, DeliverSent: 6, ReceiptsAcked: 6, Retries: 5} // flaky 2 + gone 3
		if st != want {
			t.Errorf("stats %+v\nwant  %+v", st, want)
		}
	})
}

// TestCancelReplace works on messages still queued (scheduled later).
func TestCancelReplace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		routes := &smsc.Routes{}
		phone := &scriptPhone{}
		routes.AddPrefix("999", smsc.PhoneSink{Phone: phone})
		srv := &smsc.Server{Router: routes}
		defer shutdown(t, srv)
		e := pipeSession(t, srv)
		e.bind(pdu.CmdBindTransceiver, "sut", "pw", pdu.StatusOK)
		later := func(dest, text string) *pdu.SubmitSM {
			sm := textSM(dest, text)
			sm.ScheduleDeliveryTime = []byte("000000010000000R")
			return sm
		}
		id1 := e.submit(later("99900000020", "one"), pdu.StatusOK)
		e.call(pdu.CmdReplaceSM, &pdu.ReplaceSM{MessageID: []byte(id1), ShortMessage: []byte("one, replaced")}, pdu.StatusOK)
		id2 := e.submit(later("99900000021", "two"), pdu.StatusOK)
		e.call(pdu.CmdCancelSM, &pdu.CancelSM{MessageID: []byte(id2)}, pdu.StatusOK)
		e.call(pdu.CmdCancelSM, &pdu.CancelSM{MessageID: []byte(id2)}, pdu.StatusCancelFail)
		e.submit(later("99900000022", "three"), pdu.StatusOK)
		e.submit(later("99900000022", "four"), pdu.StatusOK)
		e.call(pdu.CmdCancelSM, &pdu.CancelSM{Source: pdu.Addr{TON: 5, Addr: []byte("SimLab")}, Dest: pdu.Addr{Addr: []byte("99900000022")}}, pdu.StatusOK)
		// replace_if_present: a second submit replaces the queued one.
		sm := later("99900000023", "old")
		sm.ReplaceIfPresent = 1
		id5 := e.submit(sm, pdu.StatusOK)
		sm = later("99900000023", "new")
		sm.ReplaceIfPresent = 1
		if id := e.submit(sm, pdu.StatusOK); id != id5 {
			t.Errorf("replace_if_present gave id %s, want %s", id, id5)
		}
		time.Sleep(2 * time.Hour) // fake time: let the schedule pass
		synctest.Wait()
		phone.mu.Lock()
		defer phone.mu.Unlock()
		var texts []string
		for _, c := range phone.calls {
			txt, _ := c.m.Text()
			texts = append(texts, c.m.Dest.Addr+":"+txt)
		}
		sort.Strings(texts) // destinations are delivered concurrently
		want := []string{"99900000020:one, replaced", "99900000023:new"}
		if len(texts) != 2 || texts[0] != want[0] || texts[1] != want[1] {
			t.Errorf("phone got %q, want %q", texts, want)
		}
		m, _ := srv.Store.Get(context.Background(), id2)
		if m.State != smsc.Deleted {
			t.Errorf("cancelled message state %v", m.State)
		}
	})
}

// TestFaults: injected submit errors, delivery failures and latency.
func TestFaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		routes := &smsc.Routes{}
		phone := &scriptPhone{}
		routes.AddPrefix("", smsc.PhoneSink{Phone: phone})
		faults := smsc.NewFaults(42)
		srv := &smsc.Server{Router: routes, Faults: faults}
		defer shutdown(t, srv)
		e := pipeSession(t, srv)
		e.bind(pdu.CmdBindTransceiver, "sut", "pw", pdu.StatusOK)

		faults.SetDest("111", smsc.Fault{SubmitStatus: pdu.StatusSysErr, Count: 1})
		e.submit(textSM("111", "x"), pdu.StatusSysErr)
		e.submit(textSM("111", "x"), pdu.StatusOK) // Count 1: used up
		faults.SetAccount("sut", smsc.Fault{Throttle: 1})
		e.submit(textSM("222", "x"), pdu.StatusOK)
		e.submit(textSM("222", "x"), pdu.StatusThrottled)
		faults.RemoveAccount("sut")

		faults.SetDest("333", smsc.Fault{DeliveryError: &smsc.DeliveryError{Code: 66, Permanent: true}})
		sm := textSM("333", "fail")
		sm.RegisteredDelivery = 1
		id := e.submit(sm, pdu.StatusOK)
		if r, _ := e.receipt(t); r.ID != id || r.State != smsc.Undeliverable || r.Err != 66 {
			t.Errorf("fault receipt %+v", r)
		}
		faults.SetDest("444", smsc.Fault{Latency: 2 * time.Second, Jitter: time.Second})
		start := time.Now()
		sm = textSM("444", "slow")
		sm.RegisteredDelivery = 1
		e.submit(sm, pdu.StatusOK)
		e.receipt(t)
		d := time.Since(start)
		if d < 2*time.Second || d >= 3*time.Second {
			t.Errorf("latency %v, want 2s..3s", d)
		}
		if rules := faults.List(); len(rules) != 3 || rules[0].Dest != "444" || rules[0].Hits != 1 {
			t.Errorf("rules %+v", rules)
		}
	})
}

// TestPriorityPerMessageReceiptDrop: priority order at one destination,
// one receipt per concatenated message, an injected dropped connection and
// the unbind the server sends on shutdown.
func TestPriorityPerMessageReceiptDrop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		routes := &smsc.Routes{}
		phone := &scriptPhone{}
		routes.AddPrefix("", smsc.PhoneSink{Phone: phone})
		faults := smsc.NewFaults(1)
		srv := &smsc.Server{Router: routes, ReceiptPerMessage: true, Faults: faults, EnquireInterval: time.Hour}
		e := pipeSession(t, srv)
		e.bind(pdu.CmdBindTransceiver, "sut", "pw", pdu.StatusOK)

		// Same destination, same schedule: priority 3 goes before 0.
		for i, prio := range []uint8{0, 3, 1} {
			sm := textSM("99900000040", string(rune('a'+i)))
			sm.PriorityFlag = prio
			sm.ScheduleDeliveryTime = []byte("000000000100000R")
			e.submit(sm, pdu.StatusOK)
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		phone.mu.Lock()
		var order string
		for _, c := range phone.calls {
			txt, _ := c.m.Text()
			order += txt
		}
		phone.mu.Unlock()
		if order != "bca" {
			t.Errorf("delivery order %q, want bca (priority 3, 1, 0)", order)
		}

		// Two segments with an 8-bit reference: one receipt, for part 1.
		var ids []string
		for seq := byte(1); seq <= 2; seq++ {
			sm := textSM("99900000041", "")
			sm.ESMClass, sm.RegisteredDelivery = 0x40, 1
			sm.ShortMessage = append([]byte{0x05, 0x00, 0x03, 0x42, 0x02, seq}, "half"...)
			ids = append(ids, e.submit(sm, pdu.StatusOK))
		}
		r, _ := e.receipt(t)
		if r.ID != ids[0] || r.State != smsc.Delivered {
			t.Errorf("per-message receipt %+v, want id %s", r, ids[0])
		}
		e.c.SetReadDeadline(time.Now().Add(time.Minute))
		if h, _, err := e.tryRead(); err == nil {
			t.Errorf("second receipt: %v", h.ID)
		}
		e.c.SetReadDeadline(time.Time{})

		// Dropped connection on submit.
		faults.SetDest("99900000042", smsc.Fault{Drop: true})
		e.send(pdu.CmdSubmitSM, textSM("99900000042", "drop me"))
		if !e.closed(time.Minute) {
			t.Error("connection not dropped")
		}

		// Shutdown asks a bound ESME to unbind.
		f := pipeSession(t, srv)
		f.bind(pdu.CmdBindTransmitter, "sut", "pw", pdu.StatusOK)
		done := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			done <- srv.Shutdown(ctx)
		}()
		h, _ := f.read()
		if h.ID != pdu.CmdUnbind {
			t.Fatalf("got %v, want unbind", h.ID)
		}
		f.raw(pdu.Append(nil, pdu.CmdUnbindResp, 0, h.Seq, nil))
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
}

// TestRecovery starts a server over a store holding work from before a
// restart: a receipt owed, an attempt without outcome (reported UNKNOWN,
// not repeated) and a queued message (delivered now).
func TestRecovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := smsc.NewMemStore(0)
		now := time.Now()
		base := func(id, dest string) *smsc.Message {
			return &smsc.Message{ID: id, Account: "sut", Namespace: "sut", Direction: smsc.MT, Source: smsc.Address{TON: 5, Addr: "SimLab"},
				Dest: smsc.Address{Addr: dest}, Body: []byte("x"), RegisteredDelivery: 1, SubmitTime: now, ValidUntil: now.Add(time.Hour)}
		}
		owed := base("1", "99900000050")
		owed.State, owed.ReceiptDue, owed.DoneTime = smsc.Delivered, true, now
		unsure := base("2", "99900000051")
		unsure.State, unsure.Attempting, unsure.Attempts = smsc.Enroute, true, 1
		queued := base("3", "99900000052")
		queued.State = smsc.Enroute
		done := base("4", "99900000053")
		done.State = smsc.Delivered
		if err := store.Append(ctx, owed, unsure, queued, done); err != nil {
			t.Fatal(err)
		}
		phone := &scriptPhone{}
		routes := &smsc.Routes{}
		routes.AddPrefix("999", smsc.PhoneSink{Phone: phone})
		srv := &smsc.Server{Store: store, Router: routes}
		defer shutdown(t, srv)
		e := pipeSession(t, srv)
		e.bind(pdu.CmdBindReceiver, "sut", "pw", pdu.StatusOK)
		got := map[string]smsc.State{}
		for range 3 {
			r, _ := e.receipt(t)
			got[r.ID] = r.State
		}
		want := map[string]smsc.State{"1": smsc.Delivered, "2": smsc.Unknown, "3": smsc.Delivered}
		for id, st := range want {
			if got[id] != st {
				t.Errorf("receipt for %s: %v, want %v (all: %v)", id, got[id], st, got)
			}
		}
		synctest.Wait()
		phone.mu.Lock()
		if len(phone.calls) != 1 || phone.calls[0].m.ID != "3" {
			t.Errorf("phone calls %d, want one for message 3", len(phone.calls))
		}
		phone.mu.Unlock()
		if p, _ := store.Pending(ctx); len(p) != 0 {
			t.Errorf("%d messages still pending after recovery", len(p))
		}
	})
}

// TestAbsentHoldsDestination: after an absent-subscriber failure the
// destination's messages wait together and are delivered in order.
func TestAbsentHoldsDestination(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		phone := &scriptPhone{script: []error{smsc.ErrAbsent}}
		routes := &smsc.Routes{}
		routes.AddNumber("99900000060", smsc.PhoneSink{Phone: phone})
		srv := &smsc.Server{Router: routes, RetryMin: 5 * time.Second}
		defer shutdown(t, srv)
		e := pipeSession(t, srv)
		e.bind(pdu.CmdBindTransmitter, "sut", "pw", pdu.StatusOK)
		start := time.Now()
		e.submit(textSM("99900000060", "one"), pdu.StatusOK)
		synctest.Wait() // first attempt: absent
		e.submit(textSM("99900000060", "two"), pdu.StatusOK)
		time.Sleep(10 * time.Second) // fake time
		synctest.Wait()
		phone.mu.Lock()
		defer phone.mu.Unlock()
		var got []string
		for _, c := range phone.calls {
			txt, _ := c.m.Text()
			got = append(got, fmt.Sprintf("%s@%v", txt, c.at.Sub(start)))
		}
		if want := []string{"one@0s", "one@5s", "two@5s"}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("attempts %v, want %v", got, want)
		}
	})
}

// TestESMEToESME: an MT to a number an account owns goes to that account's
// receiver as deliver_sm, SAR TLVs and data_coding kept, and the submitter
// gets the receipt once it is acknowledged.
func TestESMEToESME(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &smsc.Server{Accounts: []smsc.Account{
			{SystemID: "a", Password: "pw"},
			{SystemID: "b", Password: "pw", MORanges: []string{"4242*"}},
		}}
		defer shutdown(t, srv)
		a := pipeSession(t, srv)
		a.bind(pdu.CmdBindTransceiver, "a", "pw", pdu.StatusOK)
		b := pipeSession(t, srv)
		b.bind(pdu.CmdBindReceiver, "b", "pw", pdu.StatusOK)
		sm := textSM("424200", "")
		sm.DataCoding, sm.ShortMessage, sm.RegisteredDelivery = 8, []byte{0, 'h', 0, 'i'}, 1
		sm.TLVs = pdu.TLVs{{Tag: pdu.TagSarMsgRefNum, Value: []byte{0x12, 0x34}}, {Tag: pdu.TagSarTotalSegments, Value: []byte{2}}, {Tag: pdu.TagSarSegmentSeqnum, Value: []byte{1}}}
		id := a.submit(sm, pdu.StatusOK)
		h, body := b.read()
		var d pdu.DeliverSM
		if err := d.Unmarshal(body); err != nil || h.ID != pdu.CmdDeliverSM {
			t.Fatalf("%v %v", h.ID, err)
		}
		ref, _ := d.TLVs.Uint16(pdu.TagSarMsgRefNum)
		if string(d.Dest.Addr) != "424200" || d.DataCoding != 8 || string(d.ShortMessage) != "\x00h\x00i" || ref != 0x1234 {
			t.Errorf("deliver_sm %+v", d)
		}
		b.raw(pdu.Append(nil, pdu.CmdDeliverSMResp, 0, h.Seq, &pdu.MessageIDResp{}))
		if r, _ := a.receipt(t); r.ID != id || r.State != smsc.Delivered {
			t.Errorf("receipt %+v", r)
		}
	})
}
