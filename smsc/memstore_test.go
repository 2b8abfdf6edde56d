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
		st := Enroute
		if i < 2 {
			st = Delivered // retention forgets only messages in a final state
		}
		m := &Message{ID: fmt.Sprint(i), Namespace: ns, Dest: Address{Addr: fmt.Sprint(100 + i%3)}, DCS: dcs, Body: body,
			SubmitTime: t0.Add(time.Duration(i) * time.Minute), State: st}
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
	s.Append(ctx, &Message{ID: "A", State: Delivered})
	s.mu.Lock()
	ia, _ := s.lookup("A")
	s.idx[maphash.String(s.seed, "B")] = s.log.at(ia).seq // pretend B hashes like A's slot
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

// TestMemStoreByteBudget: retention counts bytes, not only messages; the
// oldest final messages go first; messages still owed work are kept, and
// when they alone fill the budget Append says ErrStoreFull.
func TestMemStoreByteBudget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	msg := func(i int, st State) *Message {
		return &Message{ID: fmt.Sprint(i), Body: make([]byte, 1000), State: st, Dest: Address{Addr: "1"}}
	}
	size := int64(MessageSize(msg(100, Delivered)))
	s := &MemStore{MaxBytes: 10 * size}
	for i := range 25 {
		if err := s.Append(ctx, msg(10+i, Delivered)); err != nil {
			t.Fatal(err)
		}
	}
	u := s.Usage()
	if u.Messages != 10 || u.Bytes > u.MaxBytes {
		t.Fatalf("after 25 final messages: %+v", u)
	}
	if _, err := s.Get(ctx, "10"); !errors.Is(err, ErrNotFound) {
		t.Error("the oldest was kept")
	}
	// Pending messages push the final ones out, then fill the budget.
	for i := range 10 {
		if err := s.Append(ctx, msg(100+i, Enroute)); err != nil {
			t.Fatalf("pending %d: %v", i, err)
		}
	}
	if err := s.Append(ctx, msg(200, Enroute)); !errors.Is(err, ErrStoreFull) {
		t.Fatalf("a pending message over the budget: %v", err)
	}
	if err := s.Append(ctx, msg(201, Delivered), msg(202, Delivered)); !errors.Is(err, ErrStoreFull) || s.Len() != 10 {
		t.Fatalf("a batch that does not fit: %v, len %d", err, s.Len())
	}
	// A delivery frees room: that message goes first, the pending stay.
	if err := s.Patch(ctx, "104", func(m *Message) { m.State = Delivered }); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx, msg(300, Enroute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "104"); !errors.Is(err, ErrNotFound) {
		t.Error("the delivered message was kept over a pending one")
	}
	for _, id := range []string{"100", "103", "105", "109", "300"} {
		if _, err := s.Get(ctx, id); err != nil {
			t.Errorf("pending %s: %v", id, err)
		}
	}
	if u := s.Usage(); u.PendingMessages != 10 || u.PendingBytes != u.Bytes || u.Bytes > u.MaxBytes {
		t.Errorf("usage %+v", u)
	}
	// A page bounded in bytes.
	p, err := s.List(ctx, Query{Filter: Filter{AllNamespaces: true}, Limit: 1000, MaxBytes: 3 * size})
	if err != nil || len(p.Messages) != 3 || p.Next == "" {
		t.Fatalf("a page of 3 messages' bytes: %d messages, next %q, %v", len(p.Messages), p.Next, err)
	}
	p, err = s.List(ctx, Query{Filter: Filter{AllNamespaces: true}, Limit: 1000, MaxBytes: 1, Cursor: p.Next})
	if err != nil || len(p.Messages) != 1 || p.Messages[0].ID != "107" {
		t.Fatalf("a byte limit below one message still returns one: %v %v", p.Messages, err)
	}
}

// TestMemStoreParts: the parts of a concatenated message are found by key
// without a scan, also after some were removed.
func TestMemStoreParts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewMemStore(0)
	for i := range 5 {
		m := &Message{ID: fmt.Sprint(i), Namespace: "n", Source: Address{Addr: "a"}, Dest: Address{Addr: "b"},
			Concat: &Concat{Ref: 7, Total: 5, Seq: uint8(i + 1)}, State: Delivered}
		if err := s.Append(ctx, m, &Message{ID: fmt.Sprint("other", i), State: Delivered}); err != nil {
			t.Fatal(err)
		}
	}
	k, _ := KeyOf(&Message{Namespace: "n", Source: Address{Addr: "a"}, Dest: Address{Addr: "b"}, Concat: &Concat{Ref: 7, Total: 5}})
	parts, _ := s.Parts(ctx, k)
	if len(parts) != 5 || parts[0].ID != "0" || parts[4].ID != "4" {
		t.Fatalf("parts %v", parts)
	}
	s.Delete(ctx, Filter{AllNamespaces: true, To: "b", Since: time.Time{}})
	if parts, _ := s.Parts(ctx, k); len(parts) != 0 || len(s.parts) != 0 {
		t.Errorf("parts after delete: %v (index %v)", parts, s.parts)
	}
}
