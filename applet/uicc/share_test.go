package uicc

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
)

// Steps on the shared contents: EF_FPLMN (transparent, PIN1), EF_SMS record
// 3 (linear fixed, PIN1) and EF_SPN (ADM), read through ADF_USIM and, for
// the twins, through DF_GSM and DF_TELECOM.
const (
	verifyPIN1  = "0020000108" + "31323334FFFFFFFF"
	verifyADM1  = "002000 0A08" + "3838383838383838"
	selFPLMN    = "00A4080C047FF06F7B"
	selGSMFPLMN = "00A4080C047F206F7B"
	selSMS      = "00A4080C047FF06F3C"
	selTelSMS   = "00A4080C047F106F3C"
	selSPN      = "00A4080C047FF06F46"
	fplmnWrite  = "02F810FFFFFFFFFFFFFFFFFF"
	spnWrite    = "01" + "4F5441" + "FFFFFFFFFFFFFFFFFFFFFFFFFF"
)

var (
	fplmnAsMade = "FFFFFFFFFFFFFFFFFFFFFFFF"
	smsWrite    = "03" + string(bytes.Repeat([]byte("AB"), smsRecLen-1))
	smsAsMade   = "00" + string(bytes.Repeat([]byte("FF"), smsRecLen-1))
)

// write changes the three files on c.
func write(t *testing.T, c *Card) {
	t.Helper()
	run(t, c, []step{
		{verifyPIN1, "9000"}, {verifyADM1, "9000"},
		{selFPLMN, "9000"}, {"00D600000C" + fplmnWrite, "9000"},
		{selSMS, "9000"}, {"00DC0304B0" + smsWrite, "9000"},
		{selSPN, "9000"}, {"00D6000011" + spnWrite, "9000"},
	})
}

// read checks the three files on c, through both paths of the twins.
func read(t *testing.T, c *Card, fplmn, sms, spnPrefix string) {
	t.Helper()
	run(t, c, []step{
		{verifyPIN1, "9000"},
		{selFPLMN, "9000"}, {"00B000000C", fplmn + "9000"},
		{selGSMFPLMN, "9000"}, {"00B000000C", fplmn + "9000"},
		{selSMS, "9000"}, {"00B20304B0", sms + "9000"},
		{selTelSMS, "9000"}, {"00B20304B0", sms + "9000"},
		{selSPN, "9000"}, {"00B0000011", spnPrefix + "…9000"},
	})
}

// TestSharedContents: cards made from one profile and from its Subscriber
// copies share one file tree and its contents, yet a card's UPDATE BINARY
// and UPDATE RECORD change only its own files (and their DF_GSM and
// DF_TELECOM twins), whether the other card was made before or after the
// write; the template keeps its contents; the per-card files (ICCID, IMSI,
// MSISDN) are each card's.
func TestSharedContents(t *testing.T) {
	t.Parallel()
	p := loadProfile(t, testProfile)
	mk := func(n uint64) *Card {
		t.Helper()
		q, err := p.Subscriber(n)
		if err != nil {
			t.Fatal(err)
		}
		c, err := New(q, Options{Clock: fixedClock})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	before, writer := mk(1), mk(2)
	if before.fs != writer.fs || before.fs != (*p.fs.ts.Load())[0] {
		t.Fatal("cards of one profile do not share its file tree")
	}
	shared := before.fs.shared
	pristine := newTemplate(p)
	write(t, writer)
	after := mk(3)
	read(t, writer, fplmnWrite, smsWrite, "014F5441FF")
	for name, c := range map[string]*Card{"made before the write": before, "made after the write": after} {
		t.Run(name, func(t *testing.T) {
			read(t, c, fplmnAsMade, smsAsMade, "0173696D6C6162FF")
		})
	}
	// A second writer copies the template's contents, not the first
	// writer's, and the first does not see its write.
	run(t, after, []step{{verifyPIN1, "9000"}, {selFPLMN, "9000"}, {"00D6000003" + "130014", "9000"}, {"00B000000C", "130014FFFFFFFFFFFFFFFFFF9000"}})
	read(t, writer, fplmnWrite, smsWrite, "014F5441FF")
	for i := range shared {
		if !bytes.Equal(shared[i], pristine.shared[i]) || (shared[i] == nil) != (pristine.shared[i] == nil) {
			t.Errorf("template content %d is %X, want %X", i, shared[i], pristine.shared[i])
		}
	}
	// Per-card values: EF_ICCID, EF_IMSI and EF_MSISDN differ by card.
	ids := map[string]bool{}
	for _, c := range []*Card{before, writer, after} {
		id := tx(t, c, "00A4080C022FE2") + tx(t, c, "00B000000A") +
			tx(t, c, "00A4080C047FF06F07") + tx(t, c, "00B0000009") +
			tx(t, c, "00A4080C047FF06F40") + tx(t, c, "00B201041C")
		if ids[id] {
			t.Errorf("two cards have identities %s", id)
		}
		ids[id] = true
	}
}

// TestTemplateFits: a copy of a parsed profile whose shared contents
// differ (another SPN) gets a tree of its own with its own SPN, shared by
// the copy's next cards, even when its card is the first one made; the
// parsed profile's cards share theirs.
func TestTemplateFits(t *testing.T) {
	t.Parallel()
	p := loadProfile(t, testProfile)
	q := *p
	q.SPN = "OTA"
	mk := func(p *Profile) *Card { return cardOf(t, p) }
	c1, d1, c2, d2 := mk(&q), mk(p), mk(&q), mk(p)
	if c1.fs == d1.fs {
		t.Fatal("profiles with different SPNs share a file tree")
	}
	if c1.fs != c2.fs || d1.fs != d2.fs {
		t.Error("cards of one profile do not share its file tree")
	}
	for _, c := range []*Card{c1, c2} {
		run(t, c, []step{{selSPN, "9000"}, {"00B0000011", "014F5441FF…9000"}})
	}
	for _, d := range []*Card{d1, d2} {
		run(t, d, []step{{selSPN, "9000"}, {"00B0000011", "0173696D6C6162FF…9000"}})
	}
	// Beyond maxTemplates variants, cards still get the right contents.
	for i := range maxTemplates + 2 {
		r := *p
		r.SPN = string(rune('A' + i))
		run(t, mk(&r), []step{{selSPN, "9000"}, {"00B0000011", fmt.Sprintf("01%02XFF…9000", 'A'+i)}})
	}
	if n := len(*p.fs.ts.Load()); n != maxTemplates {
		t.Errorf("%d templates kept, want %d", n, maxTemplates)
	}
}

// TestTemplateKeepsAID: the shared tree's ADF_USIM keeps the AID it was
// built with, not the slice of the profile that built it, so a caller that
// reuses its profile's USIMAID buffer after New — against Profile's
// read-only rule, which before the trees were shared cost only its own
// card — changes no other card's USIM.
func TestTemplateKeepsAID(t *testing.T) {
	t.Parallel()
	p := loadProfile(t, testProfile)
	aid := bytes.Clone(p.USIMAID)
	aid[len(aid)-1] ^= 0x01
	q1, q2 := *p, *p
	q1.USIMAID, q2.USIMAID = bytes.Clone(aid), bytes.Clone(aid)
	a, b := cardOf(t, &q1), cardOf(t, &q2)
	if a.fs != b.fs {
		t.Fatal("profiles with one AID do not share a file tree")
	}
	clear(q1.USIMAID) // the caller reuses its buffer
	sel := fmt.Sprintf("00A4040C%02X%X", len(aid), aid)
	run(t, b, []step{{sel, "9000"}})
	run(t, cardOf(t, &q2), []step{{sel, "9000"}})
}

// TestSharedConcurrent: cards of one parsed profile and of its copies,
// made and used on many goroutines at once (run with -race), share their
// trees — a copy with another SPN among them, and more variants than the
// cache keeps — and each sees only its own writes.
func TestSharedConcurrent(t *testing.T) {
	t.Parallel()
	p := loadProfile(t, testProfile)
	t.Run("cards", func(t *testing.T) {
		for i := range 32 {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				q, err := p.Subscriber(uint64(i))
				if err != nil {
					t.Fatal(err)
				}
				spn := "0173696D6C6162FF"
				if i%3 == 2 { // SPNs "A".."I", then "A" again: more variants than maxTemplates, one twice
					q.SPN = string(rune('A' + i/3%(maxTemplates+1)))
					spn = fmt.Sprintf("01%02XFF", q.SPN[0])
				}
				c := cardOf(t, q)
				read(t, c, fplmnAsMade, smsAsMade, spn)
				if i%2 == 0 {
					write(t, c)
					read(t, c, fplmnWrite, smsWrite, "014F5441FF")
				} else {
					read(t, c, fplmnAsMade, smsAsMade, spn)
				}
			})
		}
	})
	for _, tm := range *p.fs.ts.Load() {
		r := *p
		r.SPN = tm.spn
		pristine := newTemplate(&r)
		for i := range tm.shared {
			if !bytes.Equal(tm.shared[i], pristine.shared[i]) {
				t.Errorf("template %q content %d is %X, want %X", tm.spn, i, tm.shared[i], pristine.shared[i])
			}
		}
	}
}

// TestTemplateKey: a copy of a parsed profile given any one field of
// another profile (the "other" of TestFSDump) shows, through APDUs, the
// same files as a card built without the cache, though a card of the
// parsed profile built the cache's first tree: no field that changes the
// shared contents is missing from the templates' key (fsTemplate.fits).
func TestTemplateKey(t *testing.T) {
	t.Parallel()
	p := loadProfile(t, testProfile)
	other := loadProfile(t, fsDumpProfiles["other"])
	cardOf(t, p)
	pv, ov := reflect.ValueOf(p).Elem(), reflect.ValueOf(other).Elem()
	changed := 0
	for _, f := range reflect.VisibleFields(pv.Type()) {
		if !f.IsExported() || reflect.DeepEqual(pv.FieldByIndex(f.Index).Interface(), ov.FieldByIndex(f.Index).Interface()) {
			continue
		}
		changed++
		t.Run(f.Name, func(t *testing.T) {
			t.Parallel()
			q := *p
			reflect.ValueOf(&q).Elem().FieldByIndex(f.Index).Set(ov.FieldByIndex(f.Index))
			fresh := q
			fresh.fs = nil
			if got, want := fsDump(t, cardOf(t, &q)), fsDump(t, cardOf(t, &fresh)); !bytes.Equal(got, want) {
				t.Errorf("a copy with %s of another profile shows\n%s\nwant\n%s", f.Name, got, want)
			}
		})
	}
	if changed < 4 {
		t.Fatalf("the profiles differ in %d fields, want at least the SPN, SMSC, languages and USIM AID", changed)
	}
}

// cardOf is the card of p, with the tests' clock.
func cardOf(t *testing.T, p *Profile) *Card {
	t.Helper()
	c, err := New(p, Options{Clock: fixedClock})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
