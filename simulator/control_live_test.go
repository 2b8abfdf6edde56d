package simulator

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc/client"
)

// callJSON sends a JSON request to the test server and decodes the answer.
func callJSON(t *testing.T, s *Server, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+s.Addrs().HTTP+path, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode
}

// sse is an open /api/v1/events stream.
type sse struct {
	rd *bufio.Reader
}

func openEvents(t *testing.T, s *Server, query string) *sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+s.Addrs().HTTP+"/api/v1/events?"+query, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 {
		t.Fatalf("events: %s", resp.Status)
	}
	rd := bufio.NewReader(resp.Body)
	if l, _ := rd.ReadString('\n'); !strings.HasPrefix(l, ":") { // subscribed
		t.Fatalf("first line %q", l)
	}
	return &sse{rd: rd}
}

// next returns the data of the next event called name.
func (e *sse) next(t *testing.T, name string) []byte {
	t.Helper()
	cur := ""
	for {
		l, err := e.rd.ReadString('\n')
		if err != nil {
			t.Fatalf("waiting for %s: %v", name, err)
		}
		l = strings.TrimRight(l, "\n")
		if v, ok := strings.CutPrefix(l, "event: "); ok {
			cur = v
		}
		if v, ok := strings.CutPrefix(l, "data: "); ok && cur == name {
			return []byte(v)
		}
	}
}

// TestHumanAnswersOnTheAPI: a phone whose behaviour is human shows its
// LoA3 prompt as a pending prompt; the PIN posted to it reaches the card
// as a TERMINAL RESPONSE (approved, acr 3), and Cancel cancels. The
// challenges are listed with their LoA.
func TestHumanAnswersOnTheAPI(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{PromptTimeout: 20 * time.Second})
	const n = "99901000777"
	if code := callJSON(t, s, "PUT", "/api/v1/phones/"+n, PhoneUpdate{Behaviour: &person.Behaviour{Then: person.Step{Answer: person.AnswerHuman}}}, nil); code != 200 {
		t.Fatalf("PUT human: %d", code)
	}
	events := openEvents(t, s, "topics=human,challenge&msisdn="+n)
	p, err := push.New(context.Background(), push.Config{SMPP: client.Config{Addr: s.Addrs().SMPP, SystemID: "ci", Password: "x", NoReconnect: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	for _, c := range []struct {
		reply         person.Reply
		outcome, acr  string
		loaAch        string
		challengeOutc string
	}{
		{person.Reply{Action: "ok", Input: fleet.DefaultPIN}, "approved", "3", "3", "approved"},
		{person.Reply{Action: "cancel"}, "cancelled", "", "0", "cancelled"},
	} {
		res := make(chan push.Result, 1)
		go func() {
			r, err := p.Push(context.Background(), push.Request{MSISDN: n, LoA: authn.LoA3, ClientName: "Example Bank", BindingMessage: "Login [approve]", Timeout: 20 * time.Second})
			if err != nil {
				t.Error(err)
			}
			res <- r
		}()
		var pr person.PromptState
		if err := json.Unmarshal(events.next(t, "human"), &pr); err != nil {
			t.Fatal(err)
		}
		if pr.Kind != "input" || !pr.Hidden || pr.MinLen != 5 || !strings.Contains(pr.Text, "Example Bank") {
			t.Fatalf("prompt %+v", pr)
		}
		var pending struct{ Prompts []person.PromptState }
		callJSON(t, s, "GET", "/api/v1/prompts?msisdn=%2B"+n, nil, &pending)
		if len(pending.Prompts) != 1 || pending.Prompts[0].ID != pr.ID {
			t.Fatalf("pending %+v", pending)
		}
		if code := callJSON(t, s, "POST", "/api/v1/prompts/"+pr.ID, person.Reply{Action: "ok", Input: "12"}, nil); code != 400 {
			t.Fatalf("a 2-digit PIN: %d", code)
		}
		if code := callJSON(t, s, "POST", "/api/v1/prompts/"+pr.ID, c.reply, nil); code != 200 {
			t.Fatalf("reply: %d", code)
		}
		r := <-res
		acr := ""
		if r.ACR != nil {
			acr = *r.ACR
		}
		if r.Outcome != c.outcome || acr != c.acr {
			t.Fatalf("outcome %s acr %q, want %s %q", r.Outcome, acr, c.outcome, c.acr)
		}
		var ch fleet.Challenge
		if err := json.Unmarshal(events.next(t, "challenge"), &ch); err != nil {
			t.Fatal(err)
		}
		if ch.MSISDN != n || ch.Outcome != c.challengeOutc || ch.LoAAsked != "3" || ch.LoAAchieved != c.loaAch || ch.FirstSeq == 0 {
			t.Fatalf("challenge %+v", ch)
		}
	}
	var list struct{ Challenges []fleet.Challenge }
	callJSON(t, s, "GET", "/api/v1/challenges?msisdn="+n, nil, &list)
	if len(list.Challenges) != 2 || list.Challenges[0].Outcome != "cancelled" {
		t.Fatalf("challenges %+v", list.Challenges)
	}
	if code := callJSON(t, s, "POST", "/api/v1/prompts/999", person.Reply{Action: "ok"}, nil); code != 404 {
		t.Fatalf("reply to no prompt: %d", code)
	}
}

// TestPhoneSendsSMS: POST /api/v1/phones/{msisdn}/sms reaches an ESME's
// receiver bind as MO deliver_sm, a long text in concatenated parts.
func TestPhoneSendsSMS(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{})
	got := make(chan *client.Deliver, 8)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := client.Dial(ctx, client.Config{Addr: s.Addrs().SMPP, SystemID: "app", Password: "x", Mode: client.Receiver, NoReconnect: true,
		OnDeliver: func(d *client.Deliver) uint32 { got <- d; return client.StatusOK }})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close(context.Background())
	var resp SendResponse
	long := strings.Repeat("STOP all messages please. ", 8) // 208 characters: two SMS
	if code := callJSON(t, s, "POST", "/api/v1/phones/+99901000042/sms", SendRequest{To: "12345", Text: long}, &resp); code != 202 || len(resp.IDs) != 2 {
		t.Fatalf("send: %d %+v", code, resp)
	}
	parts := map[byte]string{} // by sequence number in the concatenation header
	for range 2 {
		select {
		case d := <-got:
			sm := d.ShortMessage
			if d.Source.Addr != "99901000042" || d.Dest.Addr != "12345" || d.Receipt != nil || d.ESMClass&0x40 == 0 || len(sm) < 6 {
				t.Fatalf("deliver %+v", d)
			}
			// UDH 05 00 03 ref total seq, then GSM 7-bit one septet per
			// octet: these letters are ASCII.
			parts[sm[5]] = string(sm[1+sm[0]:])
		case <-ctx.Done():
			t.Fatal("no MO")
		}
	}
	if parts[1]+parts[2] != long {
		t.Fatalf("parts %q", parts)
	}
	for _, c := range []struct {
		body SendRequest
		code int
	}{{SendRequest{To: "12a", Text: "x"}, 400}, {SendRequest{To: "12345"}, 400}, {SendRequest{To: "1", Text: strings.Repeat("x", 2000)}, 400}} {
		if code := callJSON(t, s, "POST", "/api/v1/phones/99901000042/sms", c.body, nil); code != c.code {
			t.Errorf("%+v: %d, want %d", c.body, code, c.code)
		}
	}
	if code := callJSON(t, s, "POST", "/api/v1/phones/12345/sms", SendRequest{To: "1", Text: "x"}, nil); code != 404 {
		t.Errorf("a number outside the plan: %d", code)
	}
}

// TestComposeReachesPhone: POST /api/v1/messages submits like an ESME; the
// phone's inbox gets the text (a long one reassembled), with its link.
func TestComposeReachesPhone(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{})
	const n = "99901000043"
	if code := callJSON(t, s, "PUT", "/api/v1/phones/"+n, PhoneUpdate{Behaviour: &person.Behaviour{Then: person.Step{Answer: person.AnswerApprove}, OpenURLs: false}}, nil); code != 200 {
		t.Fatalf("PUT: %d", code)
	}
	events := openEvents(t, s, "topics=phone&msisdn="+n)
	var resp struct{ IDs []string }
	long := strings.Repeat("A long message. ", 12)
	if code := callJSON(t, s, "POST", "/api/v1/messages", map[string]string{"from": "BANK", "to": "+99901000044", "text": long}, &resp); code != 202 || len(resp.IDs) != 2 {
		t.Fatalf("compose a long text: %d %+v", code, resp)
	}
	var m struct {
		FullText string `json:"full_text"`
	}
	callJSON(t, s, "GET", "/api/v1/messages/"+resp.IDs[1], nil, &m)
	if m.FullText != long {
		t.Fatalf("reassembled %q", m.FullText)
	}
	text := "Your link: http://127.0.0.1:9/x"
	if code := callJSON(t, s, "POST", "/api/v1/messages", map[string]string{"from": "BANK", "to": "+" + n, "text": text}, &resp); code != 202 || len(resp.IDs) != 1 {
		t.Fatalf("compose: %d %+v", code, resp)
	}
	for {
		var e fleet.Event
		json.Unmarshal(events.next(t, "sms_in"), &e)
		if strings.HasPrefix(e.Detail, "text from") {
			break
		}
	}
	var inbox struct {
		Messages []struct{ From, Text, URL string }
	}
	callJSON(t, s, "GET", "/api/v1/phones/"+n+"/inbox", nil, &inbox)
	if len(inbox.Messages) != 1 || inbox.Messages[0].Text != text || inbox.Messages[0].URL != "http://127.0.0.1:9/x" {
		t.Fatalf("inbox %+v", inbox)
	}
	// Tapping the link makes the phone fetch it: nothing listens on port 9.
	if code := callJSON(t, s, "POST", "/api/v1/phones/"+n+"/open", OpenRequest{URL: "http://127.0.0.1:9/x"}, nil); code != 400 {
		t.Fatalf("open a dead link: %d", code)
	}
	if code := callJSON(t, s, "POST", "/api/v1/phones/"+n+"/open", OpenRequest{URL: "http://127.0.0.1:9/not-received"}, nil); code != 400 {
		t.Fatalf("open a link not received: %d", code)
	}
	if code := callJSON(t, s, "POST", "/api/v1/messages", map[string]string{"to": "abc", "text": "x"}, nil); code != 400 {
		t.Fatalf("bad to: %d", code)
	}
}

// TestShutdownEndsStreams: an open event stream does not hold up
// shutdown; it ends with the server.
func TestShutdownEndsStreams(t *testing.T) {
	t.Parallel()
	s, err := Start(Config{SMPPAddr: "off", HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	events := openEvents(t, s, "topics=phone,message")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with a stream open: %v", err)
	}
	for {
		if _, err := events.rd.ReadString('\n'); err != nil {
			return // the stream ended
		}
	}
}
