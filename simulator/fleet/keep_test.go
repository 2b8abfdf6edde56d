package fleet_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc"
)

// sealed seals a LoA3 challenge to msisdn with replay counter cntr, as push
// does.
func sealed(t *testing.T, f *fleet.Fleet, msisdn string, cntr string) *push.Sealed {
	t.Helper()
	ctx := context.Background()
	card, err := push.FleetCard(ctx, f.Keystore(), msisdn, false)
	if err != nil {
		t.Fatal(err)
	}
	s, err := push.Seal(ctx, f.Keystore(), card, nil, [3]byte{}, push.NextCounter(cntr), push.Request{MSISDN: msisdn, LoA: authn.LoA3, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// deliver hands a sealed challenge to the phone of msisdn (built or built
// again from its record) and waits for the session to end.
func deliver(t *testing.T, f *fleet.Fleet, msisdn string, s *push.Sealed) error {
	t.Helper()
	ctx := context.Background()
	p, err := f.Phone(ctx, msisdn)
	if err != nil {
		t.Fatal(err)
	}
	for _, ud := range s.Parts {
		m := &smsc.Message{
			Source: smsc.Address{TON: 1, NPI: 1, Addr: "99955500"}, Dest: smsc.Address{TON: 1, NPI: 1, Addr: msisdn},
			ESMClass: 0x40, PID: 0x7F, DCS: 0xF6, UDH: ud[:1+int(ud[0])], Body: ud[1+int(ud[0]):], SIMDownload: true,
		}
		tpdus, err := smsc.DeliverTPDU(m, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := p.DeliverSMS(ctx, m, tpdus); err != nil {
			p.Wait()
			return err
		}
	}
	p.Wait()
	return nil
}

// answers collects the MO answers of every phone.
type answers struct {
	mu  sync.Mutex
	got map[string][]*smsc.Message
	// check, when set, runs before an answer is taken: its error keeps
	// the answer from leaving.
	check func(*smsc.Message) error
}

func (a *answers) mo(_ context.Context, m *smsc.Message) error {
	if a.check != nil {
		if err := a.check(m); err != nil {
			return err
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.got == nil {
		a.got = map[string][]*smsc.Message{}
	}
	a.got[m.Source.Addr] = append(a.got[m.Source.Addr], m)
	return nil
}

func (a *answers) count(msisdn string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.got[msisdn])
}

// outcome opens the last answer of msisdn.
func (a *answers) outcome(t *testing.T, f *fleet.Fleet, msisdn string, s *push.Sealed) authn.Response {
	t.Helper()
	a.mu.Lock()
	ms := a.got[msisdn]
	a.mu.Unlock()
	if len(ms) == 0 {
		t.Fatalf("%s: no answer", msisdn)
	}
	resp, err := s.Open(context.Background(), f.Keystore(), append([]byte{0x02, 0x71, 0x00}, ms[len(ms)-1].Body...))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestFreedPhoneKeepsState: a phone freed beyond MaxCards and collected is
// built again from its record with its script and the step it was at, its
// PIN tries, its settings and its card's replay counters (a challenge it
// answered before is refused); phones in memory stay within MaxCards.
func TestFreedPhoneKeepsState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	box := &answers{}
	store := fleet.NewMemoryStore()
	f, err := fleet.New(fleet.Config{MaxCards: 2, MO: box.mo, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	a := fleet.FleetNumber(20)
	script := person.Behaviour{Steps: []person.Step{{Answer: person.AnswerCancel}, {Answer: person.AnswerWrongPIN}}, Then: person.Step{Answer: person.AnswerApprove}}
	p, err := f.Set(ctx, a, fleet.Spec{PIN: "24680"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetBehaviour(script); err != nil {
		t.Fatal(err)
	}
	p = nil
	first := sealed(t, f, a, "freed-a")
	if err := deliver(t, f, a, first); err != nil {
		t.Fatal(err)
	}
	second := sealed(t, f, a, "freed-a")
	if err := deliver(t, f, a, second); err != nil {
		t.Fatal(err)
	}
	if o := box.outcome(t, f, a, second).Outcome; o != authn.WrongPIN {
		t.Fatalf("second challenge: %v, want wrong PIN", o)
	}
	// Three other phones used: a is freed and, unreferenced, collected.
	for i := 21; i < 24; i++ {
		n := fleet.FleetNumber(i)
		if err := deliver(t, f, n, sealed(t, f, n, "freed-others")); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	if _, ok := f.Lookup(a); ok {
		t.Fatal("a is still in memory: the test would not build it again from its record")
	}
	if n := f.Len(); n > 2 {
		t.Errorf("%d phones in memory, MaxCards 2", n)
	}
	// Without a durable store, records are written when phones are
	// freed: two freed (a and the first other one), two in memory.
	if store.Len() != 2 {
		t.Errorf("%d records, want 2", store.Len())
	}
	p, err = f.Phone(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	in := p.Info()
	if !in.Scripted || in.NextStep != 2 || len(in.Behaviour.Steps) != 2 || in.PIN.TriesLeft != 2 || p.Spec().PIN != "24680" {
		t.Errorf("rebuilt a: %+v, want scripted at step 2 with 2 PIN tries and its PIN", in)
	}
	before := box.count(a)
	err = deliver(t, f, a, second)
	var de *smsc.DeliveryError
	if !errors.As(err, &de) || de.Code != fleet.ErrCodeSIMDownload || box.count(a) != before {
		t.Errorf("replay to the rebuilt phone: %v, %d new answers; want the SIM to refuse it", err, box.count(a)-before)
	}
	third := sealed(t, f, a, "freed-a")
	if err := deliver(t, f, a, third); err != nil {
		t.Fatal(err)
	}
	if r := box.outcome(t, f, a, third); r.Outcome != authn.Approved {
		t.Errorf("after the script's steps: %v, want approved with the PIN set over the API", r.Outcome)
	}
	// Listed although freed: the API changed it.
	for i := 24; i < 27; i++ {
		if _, err := f.Phone(ctx, fleet.FleetNumber(i)); err != nil {
			t.Fatal(err)
		}
	}
	p = nil
	runtime.GC()
	found := false
	for _, q := range f.List() {
		found = found || q.MSISDN() == a
	}
	if !found {
		t.Error("List leaves out a phone set over the API once it was freed")
	}
}

// gatedStore is a durable Store whose saves become durable only when the
// test says so; it records what was durable when.
type gatedStore struct {
	*fleet.MemoryStore
	mu      sync.Mutex
	durable map[string][]byte
	held    []func()
	gate    chan struct{} // closed: saves complete at once
}

func (s *gatedStore) Durable() bool { return true }

func (s *gatedStore) Put(msisdn string, rec []byte, listed bool, done func(error)) {
	s.MemoryStore.Put(msisdn, rec, listed, nil)
	commit := func() {
		s.mu.Lock()
		s.durable[msisdn] = append([]byte(nil), rec...)
		s.mu.Unlock()
		if done != nil {
			done(nil)
		}
	}
	select {
	case <-s.gate:
		commit()
	default:
		s.mu.Lock()
		s.held = append(s.held, commit)
		s.mu.Unlock()
	}
}

// release completes the saves held so far.
func (s *gatedStore) release() {
	s.mu.Lock()
	held := s.held
	s.held = nil
	s.mu.Unlock()
	for _, c := range held {
		c()
	}
}

// durableCounter returns the replay counter of keyset 1 durable for msisdn.
func (s *gatedStore) durableCounter(msisdn string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rec struct {
		Card struct {
			Counters map[string]uint64 `json:"counters"`
		} `json:"card"`
		PINTries *int `json:"pin_tries"`
	}
	if err := json.Unmarshal(s.durable[msisdn], &rec); err != nil {
		return 0
	}
	return rec.Card.Counters["1"]
}

// TestAnswerWaitsForDurableState: with a durable Store, a phone's answer
// does not leave it (no MO) before the record holding the counter its card
// accepted and the PIN try it consumed is durable; and a save that fails
// keeps the answer back.
func TestAnswerWaitsForDurableState(t *testing.T) {
	t.Parallel()
	store := &gatedStore{MemoryStore: fleet.NewMemoryStore(), durable: map[string][]byte{}, gate: make(chan struct{})}
	box := &answers{}
	var f *fleet.Fleet
	box.check = func(m *smsc.Message) error {
		if c := store.durableCounter(m.Source.Addr); c == 0 {
			return fmt.Errorf("%s answered before its counter was durable", m.Source.Addr)
		}
		return nil
	}
	f, err := fleet.New(fleet.Config{MO: box.mo, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	n := fleet.FleetNumber(30)
	s := sealed(t, f, n, "gated")
	done := make(chan error, 1)
	go func() { done <- deliver(t, f, n, s) }()
	// The phone waits on the store: release what it holds until the
	// session is over.
	for finished := false; !finished; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			finished = true
		default:
			store.release()
			runtime.Gosched()
		}
	}
	if box.count(n) != 1 {
		t.Fatalf("%d answers, want 1", box.count(n))
	}
	if o := box.outcome(t, f, n, s).Outcome; o != authn.Approved {
		t.Errorf("outcome %v", o)
	}
}

// failingStore is a durable Store whose saves fail.
type failingStore struct{ *fleet.MemoryStore }

func (failingStore) Durable() bool { return true }
func (failingStore) Put(_ string, _ []byte, _ bool, done func(error)) {
	if done != nil {
		done(errors.New("disk full"))
	}
}

// TestAnswerHeldWhenNotSaved: when the record cannot be made durable the
// phone sends no answer, the API says the change was not saved, and the
// phone is not freed (its record would lack what the card holds).
func TestAnswerHeldWhenNotSaved(t *testing.T) {
	t.Parallel()
	box := &answers{}
	f, err := fleet.New(fleet.Config{MO: box.mo, Store: failingStore{fleet.NewMemoryStore()}, MaxCards: 1})
	if err != nil {
		t.Fatal(err)
	}
	n := fleet.FleetNumber(31)
	_ = deliver(t, f, n, sealed(t, f, n, "failing"))
	if box.count(n) != 0 {
		t.Error("an answer left although its state was not saved")
	}
	p, err := f.Phone(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetBehaviour(person.Default()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("SetBehaviour on a failing store: %v", err)
	}
	p = nil
	if _, err := f.Phone(context.Background(), fleet.FleetNumber(32)); err != nil { // frees n
		t.Fatal(err)
	}
	runtime.GC()
	if _, ok := f.Lookup(n); !ok {
		t.Error("a phone whose record was not saved was freed and collected")
	}
}

// TestDamagedRecord: a record that cannot be read is a clear error for
// that phone only, never a crash; Reset forgets it.
func TestDamagedRecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := fleet.NewMemoryStore()
	f, err := fleet.New(fleet.Config{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		fleet.FleetNumber(40): `{"v":1,"spec":{"pin":`,
		fleet.FleetNumber(41): `{"v":2,"colour":"red"}`,
		fleet.FleetNumber(42): `{"v":1,"pin_tries":9}`,
		fleet.FleetNumber(43): `{"v":1,"card":{"counters":{"7":1}}}`,
		fleet.FleetNumber(44): `{"v":1,"card":{"pin1":{"value":"MTJhNP////8=","enabled":true,"retries":1}}}`,
		fleet.FleetNumber(46): `{"v":1,"behaviour":{"then":{"answer":"approve"},"open_urls":true},"position":{"next":3}}`,
	}
	for n, rec := range cases {
		store.Put(n, []byte(rec), false, nil)
		_, err := f.Phone(ctx, n)
		if !errors.Is(err, fleet.ErrRecord) || !strings.Contains(err.Error(), n) {
			t.Errorf("%s: %v, want ErrRecord naming the number", rec, err)
		}
		if err := f.Reset(n); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Phone(ctx, n); err != nil {
			t.Errorf("%s after reset: %v", n, err)
		}
	}
	if _, err := f.Phone(ctx, fleet.FleetNumber(45)); err != nil {
		t.Errorf("another phone: %v", err)
	}
	// A position beyond the plan's behaviour (the fleet file changed since)
	// starts the behaviour again.
	store.Put(fleet.FleetNumber(47), []byte(`{"v":1,"position":{"next":3}}`), false, nil)
	p, err := f.Phone(ctx, fleet.FleetNumber(47))
	if err != nil || p.Info().NextStep != 0 {
		t.Errorf("position beyond the plan's behaviour: %v", err)
	}
}
