package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/simlab-dev/simlab/fixtures/cards"
	"github.com/simlab-dev/simlab/fixtures/fleets"
)

// TestDefaultDirectory: the embedded plan's directory gives every number
// the ICCID and IMSI the fleet's own Identity gives it, and describes each
// magic range with its outcome code.
func TestDefaultDirectory(t *testing.T) {
	t.Parallel()
	d := DefaultDirectory()
	if len(d.Ranges) != len(MagicOutcomes)+1 {
		t.Fatalf("%d ranges, want the fleet and %d magic outcomes", len(d.Ranges), len(MagicOutcomes))
	}
	nums := []string{FleetNumber(0), FleetNumber(42), FleetNumber(FleetSize - 1)}
	for _, m := range MagicOutcomes {
		for _, i := range []int{0, 7, MagicPerCode - 1} {
			n, _ := MagicNumberFor(m.Name, i)
			nums = append(nums, n)
		}
	}
	for _, n := range nums {
		iccid, imsi, err := d.Identity("+" + n)
		wantICCID, wantIMSI, werr := Identity(nil, n)
		if err != nil || werr != nil || iccid != wantICCID || imsi != wantIMSI {
			t.Errorf("%s: %s %s %v, want %s %s %v", n, iccid, imsi, err, wantICCID, wantIMSI, werr)
		}
	}
	for _, r := range d.Ranges {
		if r.Name == "" {
			if r.Code != nil || r.Size != FleetSize || r.Range != [2]string{"+" + FleetNumber(0), "+" + FleetNumber(FleetSize-1)} {
				t.Errorf("fleet range %+v", r)
			}
			continue
		}
		lo, _ := MagicNumberFor(r.Name, 0)
		if r.Code == nil || r.Range[0] != "+"+lo || r.Size != MagicPerCode {
			t.Errorf("magic range %+v", r)
		}
	}
	for _, n := range []string{"99902000000", "4479460", "+999000000001"} {
		if _, _, err := d.Identity(n); !errors.Is(err, ErrNotInPlan) {
			t.Errorf("%s: %v, want ErrNotInPlan", n, err)
		}
	}
}

// TestPlanDirectory: for a fleet file with its own card profile, the
// directory a sender builds from the file and the one the running fleet
// serves agree with the ICCIDs of the phones the fleet builds.
func TestPlanDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	prof := strings.Replace(string(cards.Default), `iccid: "8999901000000000005"`, `iccid: "8944700000000000004"`, 1)
	if err := os.WriteFile(filepath.Join(dir, "card.yaml"), []byte(prof), 0o600); err != nil {
		t.Fatal(err)
	}
	plan := "ranges:\n" +
		"  - {name: lab, prefix: \"+4479460\", digits: 12, card: card.yaml, card_index: 5000}\n" +
		"  - {from: \"33600000000\", to: \"33600000099\", card_index: 77, behaviour: {then: {answer: cancel}}}\n"
	path := filepath.Join(dir, "fleet.yaml")
	if err := os.WriteFile(path, []byte(plan), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := LoadPlan(path)
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := p.Directory()
	if err != nil {
		t.Fatal(err)
	}
	f, err := New(Config{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	served := f.Directory()
	b, _ := json.Marshal(served)
	parsed, err := ParseDirectory(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"447946000000", "447946012345", "447946099999", "33600000000", "33600000099"} {
		ph, err := f.Phone(context.Background(), n)
		if err != nil {
			t.Fatal(err)
		}
		want := ph.Info()
		for name, d := range map[string]*Directory{"file": fromFile, "served": served, "parsed": parsed} {
			iccid, imsi, err := d.Identity(n)
			if err != nil || iccid != want.ICCID || imsi != want.IMSI {
				t.Errorf("%s directory, %s: %s %s %v, want %s %s", name, n, iccid, imsi, err, want.ICCID, want.IMSI)
			}
		}
	}
	if !strings.HasPrefix(fromFile.Ranges[0].ICCID, "89447") || fromFile.Ranges[1].Answer.Answer != "cancel" || fromFile.Ranges[0].Code != nil {
		t.Errorf("ranges %+v", fromFile.Ranges)
	}
	if _, _, err := fromFile.Identity("99901000000"); !errors.Is(err, ErrNotInPlan) {
		t.Errorf("a default-plan number in a custom plan: %v", err)
	}
}

func TestParseDirectoryErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ doc, want string }{
		{`{}`, "no ranges"},
		{`{"ranges":[{"range":["+100","+1999"],"size":1900}]}`, "equal length"},
		{`{"ranges":[{"range":["+199","+100"],"size":1}]}`, "in order"},
		{`{"ranges":[{"range":["+100","+199"],"size":99}]}`, "size 99"},
		{`{"ranges":[{"range":["+100","+199"],"size":100,"iccid":"89x"}]}`, "iccid"},
		{`{"ranges":[{"range":["+100","+199"],"size":100,"imsi":"0010100000000000"}]}`, "imsi"},
		{`{"ranges":`, "directory"},
	} {
		if _, err := ParseDirectory([]byte(c.doc)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error about %q", c.doc, err, c.want)
		}
	}
}

// FuzzParseDirectory: what parses can be asked for any number without a
// panic, and the numbers at its ranges' ends are found.
func FuzzParseDirectory(f *testing.F) {
	b, _ := json.Marshal(DefaultDirectory())
	f.Add(b)
	f.Add([]byte(`{"ranges":[{"range":["+4479460000","+4479460099"],"size":100,"iccid":"8944700000000000004","imsi":"001010000000001"}]}`))
	f.Add([]byte(`{"ranges":[{"range":["9","9"],"size":1,"iccid":"99"}],"magic":[]}`))
	f.Add(fleets.Default)
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDirectory(b)
		if err != nil {
			return
		}
		for _, r := range d.Ranges {
			for _, n := range r.Range {
				if _, err := d.Range(n); err != nil {
					t.Errorf("%s: %v", n, err)
				}
				d.Identity(n)
			}
		}
	})
}
