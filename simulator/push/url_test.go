package push_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/simulator/handset"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc/client"
)

func newPusher(t *testing.T, s *simtest.Server, systemID string) *push.Pusher {
	t.Helper()
	p, err := push.New(context.Background(), push.Config{SMPP: client.Config{Addr: s.SMPPAddr, SystemID: systemID, Password: "x", NoReconnect: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

// settledInbox returns a phone's inbox once every SMS sent to it so far
// has been delivered: the SMSC delivers to one number in order, so once a
// marker SMS sent now is delivered, so is everything before it. The
// marker is left out.
func settledInbox(t *testing.T, s *simtest.Server, msisdn string) []handset.Message {
	t.Helper()
	ctx := context.Background()
	cl, err := client.Dial(ctx, client.Config{Addr: s.SMPPAddr, SystemID: "marker", Password: "x", NoReconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close(ctx)
	ids, err := push.SendText(ctx, cl, "99955599", msisdn, "marker", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if rc, err := cl.AwaitReceipt(rctx, ids[0]); err != nil || !rc.Delivered() {
		t.Fatalf("marker SMS: %+v %v", rc, err)
	}
	inbox := s.Phone(t, msisdn).Inbox()
	if n := len(inbox); n == 0 || inbox[n-1].Text != "marker" {
		t.Fatalf("inbox without the marker last: %+v", inbox)
	}
	return inbox[:len(inbox)-1]
}

func TestPushURLOpened(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	p := newPusher(t, s, "url-open")
	for _, n := range []string{simtest.Number(t, "approve", 8001), simtest.Number(t, "no-nfc", 8001)} {
		res, err := p.PushURL(context.Background(), push.URLRequest{MSISDN: "+" + n, ClientName: "Example Bank", BindingMessage: "Login 4F2A", Timeout: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != "approved" || res.ACR == nil || *res.ACR != "2" || res.MessageID == "" || res.MSISDN != n {
			t.Fatalf("%s: %+v", n, res)
		}
		// The phone opened the link during the delivery, so its inbox has it.
		inbox := settledInbox(t, s, n)
		if len(inbox) != 1 || !inbox[0].Opened || !strings.HasPrefix(inbox[0].Text, "Example Bank: Login 4F2A http://127.0.0.1:") {
			t.Errorf("%s: inbox %+v", n, inbox)
		}
	}
}

func TestPushURLNotOpened(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	p := newPusher(t, s, "url-skip")
	n := simtest.Number(t, "approve", 8002)
	if err := s.Phone(t, n).SetBehaviour(person.Behaviour{Then: person.Step{Answer: person.AnswerApprove}, OpenURLs: false}); err != nil {
		t.Fatal(err)
	}
	res, err := p.PushURL(context.Background(), push.URLRequest{MSISDN: n, ClientName: "Example Bank", Timeout: 700 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != "timeout" || res.ACR != nil {
		t.Fatalf("%+v", res)
	}
	// The SMS was delivered (the timeout is the person's, not the network's).
	inbox := settledInbox(t, s, n)
	if len(inbox) != 1 || inbox[0].Opened || inbox[0].URL == "" {
		t.Errorf("inbox %+v", inbox)
	}
}

func TestPushURLAbsentNotDelivered(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	p := newPusher(t, s, "url-absent")
	// Validity 1 s is shorter than the SMSC's first retry (5 s): the
	// message expires after the first failed attempt.
	res, err := p.PushURL(context.Background(), push.URLRequest{MSISDN: simtest.Number(t, "absent", 8003), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != "not_delivered" || !strings.Contains(res.Receipt, "err:027") {
		t.Fatalf("%+v", res)
	}
}

func TestPushURLBadBase(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	p := newPusher(t, s, "url-bad")
	if _, err := p.PushURL(context.Background(), push.URLRequest{MSISDN: simtest.Number(t, "approve", 8004), Base: "ftp://x"}); err == nil {
		t.Fatal("ftp base accepted")
	}
	if _, err := p.PushURL(context.Background(), push.URLRequest{MSISDN: "not a number"}); err == nil {
		t.Fatal("bad number accepted")
	}
}

// TestPushURLOneShot opens the link itself (a remote phone would) and
// checks it works once, for GET only.
func TestPushURLOneShot(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	p := newPusher(t, s, "url-oneshot")
	n := simtest.Number(t, "approve", 8005)
	if err := s.Phone(t, n).SetBehaviour(person.Behaviour{Then: person.Step{Answer: person.AnswerApprove}, OpenURLs: false}); err != nil {
		t.Fatal(err)
	}
	done := make(chan push.Result, 1)
	go func() {
		res, err := p.PushURL(context.Background(), push.URLRequest{MSISDN: n, Timeout: 20 * time.Second})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	// Await the SMS in the capture API (long poll), then read the link.
	resp, err := http.Get(s.URL + "/api/v1/messages/wait?to=" + n + "&since=2000-01-01T00:00:00Z&timeout=20s")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Text string `json:"text"`
	}
	decodeJSON(t, resp, &m)
	link := m.Text[strings.Index(m.Text, "http://"):]
	for _, c := range []struct {
		method, url string
		want        int
	}{
		{http.MethodHead, link, http.StatusMethodNotAllowed},
		{http.MethodGet, link + "x", http.StatusNotFound},
		{http.MethodGet, link, http.StatusOK},
		{http.MethodGet, link, http.StatusGone},
	} {
		req, _ := http.NewRequest(c.method, c.url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			// The listener closes once the push has its answer; the
			// second GET may find it closed, which is as good as 410.
			if c.want == http.StatusGone {
				continue
			}
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.url, resp.StatusCode, c.want)
		}
	}
	if res := <-done; res.Outcome != "approved" {
		t.Errorf("%+v", res)
	}
}
