package capture_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/capture"
)

// countingStore counts full listings.
type countingStore struct {
	*smsc.MemStore
	lists atomic.Int64
}

func (s *countingStore) List(ctx context.Context, q smsc.Query) (smsc.Page, error) {
	s.lists.Add(1)
	return s.MemStore.List(ctx, q)
}

// TestListConcatLinear: listing 1,000 parts of concatenated messages
// looked each group up with a listing of its own (2.9 s over a large
// store: quadratic). Now one listing serves the page and the groups come
// from the store's concatenation index.
func TestListConcatLinear(t *testing.T) {
	t.Parallel()
	st := &countingStore{MemStore: smsc.NewMemStore(0)}
	ctx := context.Background()
	var msgs []*smsc.Message
	t0 := time.Now()
	for i := range 20_000 {
		msgs = append(msgs, &smsc.Message{ID: fmt.Sprint("o", i), Namespace: "n", Dest: smsc.Address{Addr: "1"}, Body: []byte("other"), State: smsc.Delivered, SubmitTime: t0})
	}
	for g := range 500 { // 500 messages of 2 parts: 1,000 parts
		for p := range 2 {
			dcs, body := smsc.EncodeText(fmt.Sprintf("group %d part %d. ", g, p+1))
			msgs = append(msgs, &smsc.Message{ID: fmt.Sprintf("g%d-%d", g, p), Namespace: "n", Source: smsc.Address{Addr: "SimLab"},
				Dest: smsc.Address{Addr: fmt.Sprint(99900000000 + g)}, DCS: dcs, Body: body, State: smsc.Delivered, SubmitTime: t0,
				Concat: &smsc.Concat{Ref: uint16(g), Total: 2, Seq: uint8(p + 1)}})
		}
	}
	if err := st.Append(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(capture.New(st))
	defer srv.Close()
	start := time.Now()
	var resp capture.ListResponse
	do(t, "GET", srv.URL+"/api/v1/messages?namespace=n&limit=1000", nil, nil, 200, &resp)
	took := time.Since(start)
	if len(resp.Messages) != 1000 {
		t.Fatalf("%d messages", len(resp.Messages))
	}
	for _, v := range resp.Messages {
		if v.FullText == nil || !strings.HasSuffix(*v.FullText, "part 2. ") {
			t.Fatalf("%s: full_text %v", v.ID, v.FullText)
		}
	}
	if n := st.lists.Load(); n != 1 {
		t.Errorf("a page of 1,000 parts took %d listings of the store, want 1", n)
	}
	t.Logf("1,000 parts over %d messages listed in %v", len(msgs), took)
}

// TestListBoundedInBytes: GET /api/v1/messages?limit=1000 over 64 KiB
// messages held them all and their views at once (about 0.7 GB). Now a
// page stops at capture.ListMaxBytes of stored messages, with a cursor,
// and is written one message at a time.
func TestListBoundedInBytes(t *testing.T) {
	t.Parallel()
	st := smsc.NewMemStore(0)
	ctx := context.Background()
	for i := range 140 {
		m := &smsc.Message{ID: fmt.Sprint(i), Namespace: "n", Dest: smsc.Address{Addr: "1"}, DCS: 4, Body: make([]byte, 64<<10), State: smsc.Delivered}
		if err := st.Append(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	per := smsc.MessageSize(&smsc.Message{ID: "100", Namespace: "n", Dest: smsc.Address{Addr: "1"}, Body: make([]byte, 64<<10)})
	srv := httptest.NewServer(capture.New(st))
	defer srv.Close()
	total, pages := 0, 0
	cursor := ""
	for {
		r, err := http.Get(srv.URL + "/api/v1/messages?namespace=n&limit=1000&cursor=" + cursor)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		var resp capture.ListResponse
		if err := json.Unmarshal(b, &resp); err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		pages++
		total += len(resp.Messages)
		if got := len(resp.Messages) * per; got > capture.ListMaxBytes {
			t.Errorf("page %d holds %d messages, %d bytes", pages, len(resp.Messages), got)
		}
		if resp.NextCursor == "" {
			break
		}
		cursor = resp.NextCursor
	}
	if total != 140 || pages < 2 {
		t.Errorf("%d messages in %d pages, want 140 in 2 or more", total, pages)
	}
}
