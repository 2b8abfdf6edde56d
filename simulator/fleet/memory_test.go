package fleet_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc"
)

// memPhones is how many phones TestFleetMemory builds and challenges. The
// performance bar (DESIGN.md) is 1 GiB with 1,000,000 defined and 100,000
// having answered a challenge.
var memPhones = flag.Int("fleet.phones", 100_000, "phones TestFleetMemory builds and challenges")

// memMaxCards and memKeyCache override Config.MaxCards and KeyCache.
var (
	memMaxCards = flag.Int("fleet.maxcards", 0, "Config.MaxCards for TestFleetMemory (0: default)")
	memKeyCache = flag.Int("fleet.keycache", 0, "Config.KeyCache for TestFleetMemory (0: default)")
)

// memProfile, when set, is where TestFleetMemory writes a heap profile
// while the phones are alive (go test's -memprofile is written after the
// test, when the fleet is gone).
var memProfile = flag.String("fleet.heapprofile", "", "write a heap profile of the used fleet to this file")

// heapInuse returns the heap in use (spans holding live objects) after a
// full collection, and the live objects' bytes.
func heapInuse() (inuse, alloc uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.HeapAlloc
}

// moBox hands each phone's MO answer to the goroutine that challenged it.
type moBox struct {
	mu sync.Mutex
	ch map[string]chan *smsc.Message
}

func (b *moBox) mo(_ context.Context, m *smsc.Message) error {
	b.mu.Lock()
	c := b.ch[m.Source.Addr]
	b.mu.Unlock()
	if c == nil {
		return fmt.Errorf("unexpected MO from %s", m.Source.Addr)
	}
	select {
	case c <- m:
	default:
		return fmt.Errorf("second MO from %s", m.Source.Addr)
	}
	return nil
}

func (b *moBox) expect(msisdn string) chan *smsc.Message {
	c := make(chan *smsc.Message, 4)
	b.mu.Lock()
	b.ch[msisdn] = c
	b.mu.Unlock()
	return c
}

func (b *moBox) done(msisdn string) {
	b.mu.Lock()
	delete(b.ch, msisdn)
	b.mu.Unlock()
}

// challenge pushes one LoA3 challenge straight into p (no SMPP: the SMS-DELIVER
// TPDUs the SMSC would build from the push client's submit_sm) and opens
// and verifies the answer the phone sends back.
func challenge(ctx context.Context, f *fleet.Fleet, box *moBox, p *fleet.Phone, cntr uint64) (push.Result, error) {
	return challengeVerify(ctx, f, box, p, cntr, true)
}

// challengeVerify is challenge; without verify it checks the outcome but
// not the signature (the system under test's cost, not the phone's).
func challengeVerify(ctx context.Context, f *fleet.Fleet, box *moBox, p *fleet.Phone, cntr uint64, verify bool) (push.Result, error) {
	msisdn := p.MSISDN()
	card, err := push.FleetCard(ctx, f.Keystore(), msisdn, false)
	if err != nil {
		return push.Result{}, err
	}
	c, _ := push.TimeCounter(cntr)
	sealed, err := push.Seal(ctx, f.Keystore(), card, nil, [3]byte{}, c, push.Request{MSISDN: msisdn, LoA: authn.LoA3, Timeout: 30 * time.Second})
	if err != nil {
		return push.Result{}, err
	}
	answers := box.expect(msisdn)
	defer box.done(msisdn)
	start := time.Now()
	for _, ud := range sealed.Parts {
		m := &smsc.Message{
			Source:   smsc.Address{TON: 1, NPI: 1, Addr: "99955500"},
			Dest:     smsc.Address{TON: 1, NPI: 1, Addr: msisdn},
			ESMClass: 0x40, PID: 0x7F, DCS: 0xF6,
			UDH: ud[:1+int(ud[0])], Body: ud[1+int(ud[0]):], SIMDownload: true,
		}
		tpdus, err := smsc.DeliverTPDU(m, start)
		if err != nil {
			return push.Result{}, err
		}
		if err := p.DeliverSMS(ctx, m, tpdus); err != nil {
			return push.Result{}, err
		}
	}
	p.Wait()
	var mo *smsc.Message
	select {
	case mo = <-answers:
	default:
		return push.Result{}, fmt.Errorf("%s: the session ended without an MO answer", msisdn)
	}
	if len(mo.UDH) != 3 || mo.UDH[1] != 0x71 {
		return push.Result{}, fmt.Errorf("%s: answer UDH % x is not a single response packet", msisdn, mo.UDH)
	}
	resp, err := sealed.Open(ctx, f.Keystore(), append([]byte{0x02, 0x71, 0x00}, mo.Body...))
	if err != nil {
		return push.Result{}, err
	}
	if !verify {
		res := push.Result{MSISDN: msisdn, Outcome: resp.Outcome.String(), SignatureValid: len(resp.Signature) == 64}
		if resp.Outcome == authn.Approved {
			acr := fmt.Sprint(int(resp.AchievedLoA))
			res.Outcome, res.ACR = "approved", &acr
		}
		return res, nil
	}
	return sealed.Result(resp, time.Since(start)), nil
}

// BenchmarkPhoneLoA3 is the phone's side of a LoA3 challenge without the
// SMSC: SMS-DELIVER into Phone.DeliverSMS (handset, ENVELOPE, OTA open,
// applet, PIN, ECDSA signature, SEND SHORT MESSAGE) and the MO back, on 1,000
// built phones. The challenge is sealed and the answer opened as push does,
// but the signature is not verified (-fleet.verify to include it).
//
//	go test ./simulator/fleet -run '^$' -bench PhoneLoA3 -benchtime 20000x
func BenchmarkPhoneLoA3(b *testing.B) {
	const phones = 1000
	box := &moBox{ch: map[string]chan *smsc.Message{}}
	ctx := context.Background()
	f, err := fleet.New(fleet.Config{MO: box.mo})
	if err != nil {
		b.Fatal(err)
	}
	ps := make([]*fleet.Phone, phones)
	for i := range ps {
		if ps[i], err = f.Phone(ctx, fleet.FleetNumber(i)); err != nil {
			b.Fatal(err)
		}
		if _, err := push.FleetCard(ctx, f.Keystore(), ps[i].MSISDN(), false); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		// Each goroutine takes its own phone per challenge: i is unique.
		for pb.Next() {
			i := int(next.Add(1) - 1)
			res, err := challengeVerify(ctx, f, box, ps[i%phones], uint64(time.Now().UnixMilli()/10)+uint64(i/phones), *benchVerify)
			if err != nil {
				b.Error(err)
				return
			}
			if res.Outcome != "approved" || !res.SignatureValid {
				b.Errorf("outcome %+v", res)
				return
			}
		}
	})
}

var benchVerify = flag.Bool("fleet.verify", false, "BenchmarkPhoneLoA3 verifies each signature (push's cost)")

// TestFleetMemory checks the memory bar: phones are built lazily, so the
// 1,000,000 numbers of the default fleet cost nothing until used, and
// -fleet.phones phones (default 100,000) that each answered a LoA3
// challenge fit in 1 GiB of live heap: beyond MaxCards, idle phones are
// freed and only their records (OTA counters) stay. It logs the bytes per
// phone.
//
//	go test ./simulator/fleet -run TestFleetMemory -v
func TestFleetMemory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("builds 100,000 phones; skipped with -short and -race")
	}
	n := *memPhones
	box := &moBox{ch: map[string]chan *smsc.Message{}}
	ctx := context.Background()
	base, _ := heapInuse()
	store := fleet.NewMemoryStore()
	f, err := fleet.New(fleet.Config{MO: box.mo, MaxCards: *memMaxCards, KeyCache: *memKeyCache, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	empty, emptyAlloc := heapInuse()
	// Every number of the plan is addressable without building anything.
	for _, num := range []string{fleet.FleetNumber(0), fleet.FleetNumber(fleet.FleetSize - 1)} {
		if _, _, err := fleet.Identity(nil, num); err != nil {
			t.Fatal(err)
		}
	}
	if f.Len() != 0 {
		t.Fatalf("Len = %d before any use", f.Len())
	}

	var next atomic.Int64
	var failures atomic.Int64
	var firstErr sync.Once
	lat := make([]time.Duration, n)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < 2*runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				// Spread the phones over the whole fleet range.
				num := fleet.FleetNumber(int(uint64(i) * (fleet.FleetSize / uint64(n))))
				t0 := time.Now()
				p, err := f.Phone(ctx, num)
				if err == nil {
					var res push.Result
					res, err = challenge(ctx, f, box, p, 0)
					if err == nil && (res.Outcome != "approved" || !res.SignatureValid || res.ACR == nil || *res.ACR != "3") {
						err = fmt.Errorf("%s: outcome %s signature_valid=%v detail %q", num, res.Outcome, res.SignatureValid, res.Detail)
					}
				}
				lat[i] = time.Since(t0)
				if err != nil {
					failures.Add(1)
					firstErr.Do(func() { t.Errorf("phone %d: %v", i, err) })
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if failures.Load() > 0 {
		t.Fatalf("%d of %d challenges failed", failures.Load(), n)
	}
	used, usedAlloc := heapInuse()
	maxCards := *memMaxCards
	if maxCards == 0 {
		maxCards = fleet.DefaultMaxCards
	}
	// Eviction looks at a few of the oldest on each use and skips phones
	// in use: a handful beyond the bound may remain.
	if inMemory := f.Len(); inMemory > min(n, maxCards+64) || inMemory+store.Len() < n {
		t.Errorf("%d phones in memory and %d records for %d phones used (MaxCards %d)", inMemory, store.Len(), n, maxCards)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("fleet: empty %.1f MiB (%d B over the process); %d phones answered LoA3, %d in memory, %d records: HeapInuse %.1f MiB = %.0f B per phone (live objects %.0f B per phone); build+challenge %v (%.0f/s, p50 %v, p99 %v)",
		mib(empty), empty-base, n, f.Len(), store.Len(), mib(used), float64(used-empty)/float64(n), float64(usedAlloc-emptyAlloc)/float64(n),
		elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), lat[n/2], lat[n*99/100])
	if *memProfile != "" {
		out, err := os.Create(*memProfile)
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.WriteHeapProfile(out); err != nil {
			t.Fatal(err)
		}
		out.Close()
	}
	runtime.KeepAlive(f)
	if used > 1<<30 {
		t.Fatalf("heap %.1f MiB with %d phones used, over the 1 GiB bar", mib(used), n)
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
