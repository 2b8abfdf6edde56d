package store

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc"
)

// FuzzRecord: a stored record is JSON read back at Open. One that decodes
// (with an id) encodes and decodes to the same message and has a size.
func FuzzRecord(f *testing.F) {
	f.Add([]byte(`{"id":"1","namespace":"ns","direction":"MT","source":{"ton":5,"npi":0,"addr":"SimLab"},"dest":{"ton":1,"npi":1,"addr":"999000001"},"esm_class":64,"pid":127,"dcs":246,"udh":"AnAA","body":"AAEC","concat":{"ref":7,"total":2,"seq":1},"submit_time":"2026-11-22T10:00:00Z","state":"DELIVERED","receipt_due":true}`))
	f.Add([]byte(`{"id":"4","body":`))
	f.Add([]byte(`{"id":"x","state":"NOPE"}`))
	f.Add([]byte(`{"id":"x","direction":"sideways"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m := new(smsc.Message)
		if json.Unmarshal(raw, m) != nil || m.ID == "" {
			return
		}
		e := newEntry(1, m)
		if e.size < smsc.MessageSize(&smsc.Message{}) {
			t.Fatalf("size %d", e.size)
		}
		out, err := json.Marshal(m)
		if err != nil {
			return // e.g. a time outside what JSON can write
		}
		again := new(smsc.Message)
		if err := json.Unmarshal(out, again); err != nil {
			t.Fatalf("re-encoded record does not decode: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(normal(m), normal(again)) {
			t.Fatalf("record changed in a round trip:\n%+v\n%+v", m, again)
		}
	})
}

// normal makes empty and nil slices alike and drops the monotonic clock.
func normal(m *smsc.Message) *smsc.Message {
	c := m.Clone()
	if len(c.Body) == 0 {
		c.Body = nil
	}
	if len(c.UDH) == 0 {
		c.UDH = nil
	}
	for _, tp := range []*time.Time{&c.SubmitTime, &c.Schedule, &c.ValidUntil, &c.DoneTime} {
		*tp = tp.Round(0)
	}
	return c
}

// FuzzOpen: whatever the database file holds, Open returns a store or an
// error (ErrDamaged for a damaged file), never a crash; with Repair it
// returns a working store.
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	fill(f, dir, 20)
	good, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(good[:4096])
	f.Add([]byte("not a database"))
	f.Fuzz(func(t *testing.T, file []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, FileName), file, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir, Options{NoSync: true}) // durability is not under test
		if err == nil {
			s.Close()
			return
		}
		if !errors.Is(err, ErrDamaged) {
			return // e.g. the file system refused something
		}
		s, err = Open(dir, Options{Repair: true, NoSync: true})
		if err != nil {
			t.Fatalf("repair: %v", err)
		}
		s.Close()
	})
}
