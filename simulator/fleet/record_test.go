package fleet

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/simulator/person"
)

// recordSeeds are records as this version writes them, and damaged ones.
var recordSeeds = []string{
	`{"v":1}`,
	`{"v":1,"card":{"counters":{"1":1234567890}}}`,
	`{"v":1,"spec":{"pin":"24680","no_nfc":false,"absent":true},"behaviour":{"steps":[{"answer":"cancel"},{"answer":"pin","pin":"11111","jitter":"1s"}],"then":{"answer":"approve"},"open_urls":true},"position":{"next":1,"rand":"cGNnOgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="},"pin_tries":0}`,
	`{"v":1,"pin_tries":2,"card":{"counters":{"1":5,"2":7},"pin1":{"value":"MTIzNP////8=","enabled":false,"retries":2}}}`,
	`{"v":2}`,
	`{"v":1,"pin_tries":-1}`,
	`{"v":1,"spec":{"pin":"12"}}`,
	`{"v":1}{"v":1}`,
	`[]`,
}

// FuzzRecord checks that a stored record never panics its reader, that
// every refusal wraps ErrRecord, and that what is accepted is written back
// as it was read.
func FuzzRecord(f *testing.F) {
	for _, s := range recordSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			if !errors.Is(err, ErrRecord) {
				t.Fatalf("error %v does not wrap ErrRecord", err)
			}
			return
		}
		again, err := decodeRecord(r.encode())
		if err != nil {
			t.Fatalf("a record read back fails: %v", err)
		}
		if !bytes.Equal(again.encode(), r.encode()) {
			t.Fatalf("record changed on the way back: %s → %s", r.encode(), again.encode())
		}
	})
}

// TestRecordErrors: a damaged record or one of another version says so,
// without showing the PIN it may hold.
func TestRecordErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		`{"v":1,"spec":{"pin":"2468`:                                   "damaged: invalid JSON",
		`{"v":3,"spec":{"pin":"24680"}}`:                               "written as version 3; this simlab reads version 1",
		`{"spec":{"pin":"24680"}}`:                                     "damaged: no version",
		`{"v":1,"spec":{"pin":24680}}`:                                 "field spec.pin: a JSON number where a string belongs",
		`{"v":1,"spec":{"pin":"24680"},"x":true}`:                      `unknown field "x"`,
		`{"v":1,"behaviour":{"then":{"answer":"pin","pin":"24680x"}}}`: "behaviour:",
		`{"v":1,"spec":{"pin":"2468x"}}`:                               "spec.pin: not 5 digits",
	}
	for in, want := range cases {
		_, err := decodeRecord([]byte(in))
		if !errors.Is(err, ErrRecord) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
			continue
		}
		if strings.Contains(err.Error(), "2468") {
			t.Errorf("%s: the error shows the PIN: %v", in, err)
		}
	}
}

// TestRecordOfPlanPhone: a phone as the plan makes it has no record; one
// scripted over the API has one, listed.
func TestRecordOfPlanPhone(t *testing.T) {
	t.Parallel()
	f, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Phone(context.Background(), FleetNumber(50))
	if err != nil {
		t.Fatal(err)
	}
	if r := p.snapshot(); !r.empty() {
		t.Errorf("plan phone record %s, want none", r.encode())
	}
	if err := p.SetBehaviour(person.Behaviour{Then: person.Step{Answer: person.AnswerCancel}}); err != nil {
		t.Fatal(err)
	}
	if r := p.snapshot(); !r.listed() || r.Behaviour == nil || r.Spec != nil {
		t.Errorf("scripted phone record %s", r.encode())
	}
	if l, _ := f.store.Listed(); len(l) != 1 || l[0] != FleetNumber(50) {
		t.Errorf("listed %v", l)
	}
}
