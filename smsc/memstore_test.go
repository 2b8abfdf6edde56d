package smsc

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"testing"
	"time"
)

func TestMemStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewMemStore(5)
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for i := range 7 {
		ns := "a"
		if i%2 == 1 {
			ns = "b"
		}
		dcs, body := EncodeText(fmt.Sprintf("code %d", 1000+i))
		m := &Message{ID: fmt.Sprint(i), Namespace: ns, Dest: Address{Addr: fmt.Sprint(100 + i%3)}, DCS: dcs, Body: body,
			SubmitTime: t0.Add(time.Duration(i) * time.Minute), State: Enroute}
		if err := s.Append(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// Retention: 5 kept, the two oldest forgotten.
	if s.Len() != 5 {
		t.Fatalf("len %d", s.Len())
	}
	if _, err := s.Get(ctx, "0"); !errors.Is(err, ErrNotFound) {
		t.Errorf("evicted message: %v", err)
	}
	// Pagination, newest first, over all namespaces.
	var ids []string
	q := Query{Filter: Filter{AllNamespaces: true}, Limit: 2}
	for {
		p, err := s.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range p.Messages {
			ids = append(ids, m.ID)
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if fmt.Sprint(ids) != "[6 5 4 3 2]" {
		t.Errorf("pages gave %v", ids)
	}
	// Filters: namespace, text, since, number.
	p, _ := s.List(ctx, Query{Filter: Filter{Namespace: "b"}})
	if len(p.Messages) != 2 || p.Messages[0].ID != "5" {
		t.Errorf("namespace b: %d", len(p.Messages))
	}
	p, _ = s.List(ctx, Query{Filter: Filter{AllNamespaces: true, Text: "CODE 1004"}})
	if len(p.Messages) != 1 || p.Messages[0].ID != "4" {
		t.Errorf("text search: %v", p.Messages)
	}
	p, _ = s.List(ctx, Query{Filter: Filter{AllNamespaces: true, Since: t0.Add(5 * time.Minute)}})
	if len(p.Messages) != 2 {
		t.Errorf("since: %d", len(p.Messages))
	}
	// Update, then Pending and Delete per number.
	if m, err := s.Update(ctx, "6", func(m *Message) { m.State = Delivered }); err != nil || m.State != Delivered {
		t.Errorf("update %v %v", m, err)
	}
	pend, _ := s.Pending(ctx)
	if len(pend) != 4 {
		t.Errorf("pending %d", len(pend))
	}
	n, _ := s.Delete(ctx, Filter{AllNamespaces: true, Number: "100"})
	if n != 2 || s.Len() != 3 { // ids 3 and 6 went to 100
		t.Errorf("deleted %d, len %d", n, s.Len())
	}
	p, _ = s.List(ctx, Query{Filter: Filter{AllNamespaces: true, To: "100"}})
	if len(p.Messages) != 0 {
		t.Errorf("messages to 100 left after delete: %d", len(p.Messages))
	}
	if n, _ := s.Delete(ctx, Filter{AllNamespaces: true}); n != 3 || s.Len() != 0 {
		t.Errorf("delete all left %d", s.Len())
	}
}

func TestBindTypeText(t *testing.T) {
	var b BindType
	if err := b.UnmarshalText([]byte("tx, receiver")); err != nil || b != BindTransmitter|BindReceiver {
		t.Errorf("%v %v", b, err)
	}
	if b.String() != "transmitter,receiver" || BindType(0).String() != "all" {
		t.Errorf("%q", b.String())
	}
	if err := b.UnmarshalText([]byte("sideways")); err == nil {
		t.Error("bad bind type accepted")
	}
}

// TestMemStoreHashCollision forces two ids onto one index hash (white box)
// and checks both stay reachable through replacement, deletion and
// eviction.
func TestMemStoreHashCollision(t *testing.T) {
	ctx := context.Background()
	s := NewMemStore(3)
	s.Append(ctx, &Message{ID: "A"})
	s.mu.Lock()
	qa, _ := s.lookup("A")
	s.idx[maphash.String(s.seed, "B")] = qa // pretend B hashes like A's slot
	s.mu.Unlock()
	s.Append(ctx, &Message{ID: "B", Body: []byte("b1")})
	if len(s.dup) != 1 {
		t.Fatalf("dup %v", s.dup)
	}
	for _, id := range []string{"A", "B"} {
		if _, err := s.Get(ctx, id); err != nil {
			t.Errorf("Get(%s): %v", id, err)
		}
	}
	s.Append(ctx, &Message{ID: "B", Body: []byte("b2")}) // replace B
	if m, err := s.Get(ctx, "B"); err != nil || string(m.Body) != "b2" || s.Len() != 2 {
		t.Errorf("replaced B: %v %v len %d", m, err, s.Len())
	}
	s.Append(ctx, &Message{ID: "C"}, &Message{ID: "D"}) // evicts A (and B's old slot)
	if _, err := s.Get(ctx, "A"); err == nil {
		t.Error("A not evicted")
	}
	if m, err := s.Get(ctx, "B"); err != nil || string(m.Body) != "b2" {
		t.Errorf("B after eviction: %v %v", m, err)
	}
	// (The planted index entry stays: a real collision shares A's key.)
	if n, _ := s.Delete(ctx, Filter{AllNamespaces: true}); n != 3 || s.Len() != 0 || len(s.dup) != 0 {
		t.Errorf("delete all: %d, len %d, dup %d", n, s.Len(), len(s.dup))
	}
}
