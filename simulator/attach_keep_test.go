package simulator

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/fleet/phonestore"
	"github.com/simlab-dev/simlab/smsc"
)

// keepAttachments writes attachments into the phone store of dataDir as
// POST /api/v1/attached keeps them (the test needs no pcscd).
func keepAttachments(t *testing.T, dataDir string, kept map[string]string) {
	t.Helper()
	ps, err := phonestore.Open(filepath.Join(dataDir, "phones"), phonestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	for n, v := range kept {
		if err := ps.PutAttachment(n, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
}

func listAttached(t *testing.T, s *Server) []ReaderAttachment {
	t.Helper()
	resp, err := http.Get("http://" + s.Addrs().HTTP + "/api/v1/attached")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Attached []ReaderAttachment `json:"attached"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Attached
}

// TestAttachmentsRestored: a reader attached over the API before a restart
// with --data is attached again at start even while its reader (or pcscd)
// is not there: the number is routed to it, an absent subscriber; a kept
// attachment that cannot be read is skipped, not fatal; DELETE forgets
// both for good.
func TestAttachmentsRestored(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keepAttachments(t, dir, map[string]string{
		"4930123456": `{"msisdn":"4930123456","reader":"No Such Reader 00 00","pin":"2468","answer":"cancel"}`,
		"4930123457": `{"msisdn":"4930123457","reader":`,
	})
	s := startTest(t, Config{DataDir: dir, HTTPAddr: "127.0.0.1:0"})
	got := listAttached(t, s)
	if len(got) != 1 || got[0].MSISDN != "4930123456" || got[0].Reader != "No Such Reader 00 00" || got[0].Present {
		t.Fatalf("attached after restart: %+v", got)
	}
	// The number is routed to the reader's phone: absent while no card is
	// in it, so the SMSC keeps the message for a retry.
	sink := s.Core().routes.Route(&smsc.Message{Dest: smsc.Address{Addr: "4930123456"}})
	if sink == nil {
		t.Fatal("no route to the restored attachment")
	}
	if err := sink.Deliver(context.Background(), &smsc.Message{Dest: smsc.Address{Addr: "4930123456"}, Body: []byte("hi"), SubmitTime: time.Now()}); err == nil || !strings.Contains(err.Error(), "absent") {
		t.Errorf("delivery to the restored attachment without a card: %v, want absent", err)
	}
	// The number in either form ("+" or "%2B"); the answer prints digits.
	for n, form := range map[string]string{"4930123456": "+4930123456", "4930123457": "%2B4930123457"} {
		req, _ := http.NewRequest(http.MethodDelete, "http://"+s.Addrs().HTTP+"/api/v1/attached/"+form, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"msisdn":"`+n+`"`) {
			t.Errorf("DELETE %s: %d %s, want 200 naming %s", form, resp.StatusCode, body, n)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	s = startTest(t, Config{DataDir: dir})
	if got := listAttached(t, s); len(got) != 0 {
		t.Errorf("attached after DELETE and restart: %+v", got)
	}
}

// FuzzDecodeAttachment: a kept attachment never panics its reader, and one
// it accepts names a number and a reader.
func FuzzDecodeAttachment(f *testing.F) {
	f.Add([]byte(`{"msisdn":"4930123456","reader":"Virtual PCD 00 00","pin":"12345","answer":"approve"}`))
	f.Add([]byte(`{"msisdn":"+49 30 123","reader":"R","answer":"dance"}`))
	f.Add([]byte(`{"msisdn":"4930123456","reader":`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, _, err := decodeAttachment(b)
		if err == nil && (req.MSISDN == "" || req.Reader == "") {
			t.Fatalf("accepted %q without a number or reader", b)
		}
	})
}

// TestDamagedRecordAPI: with --data, a phone whose kept record cannot be
// read answers 409 with the way out, other phones work, and DELETE forgets
// the record.
func TestDamagedRecordAPI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ps, err := phonestore.Open(filepath.Join(dir, "phones"), phonestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	ps.Put("99901000040", []byte(`{"v":1,"spec":{"pin":"246`), true, func(err error) { done <- err })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ps.Close()
	s := startTest(t, Config{DataDir: dir})
	base := "http://" + s.Addrs().HTTP + "/api/v1/phones/"
	do := func(method, n string) (int, string) {
		req, _ := http.NewRequest(method, base+n, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// As docs/fleet.md ("Damage") shows it.
	want := `{"error":"fleet: stored phone state cannot be used: damaged: invalid JSON at byte 25 (phone 99901000040: reset it to forget the record)"}`
	if code, body := do(http.MethodGet, "99901000040"); code != http.StatusConflict || strings.TrimSpace(body) != want {
		t.Errorf("damaged record: %d %s", code, body)
	}
	if code, body := do(http.MethodGet, "99901000041"); code != http.StatusOK {
		t.Errorf("another phone: %d %s", code, body)
	}
	if code, body := do(http.MethodDelete, "99901000040"); code != http.StatusOK {
		t.Errorf("DELETE: %d %s", code, body)
	}
	if code, body := do(http.MethodGet, "99901000040"); code != http.StatusOK {
		t.Errorf("after DELETE: %d %s", code, body)
	}
}
