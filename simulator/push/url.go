package push

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/smsc/client"
)

// outcomeApproved is authn.Approved's name, for the SMS modes.
const outcomeApproved = "approved"

// URLRequest is a login link sent by plain SMS: the fallback Mobile Connect
// operators use for subscribers without an authenticator SIM (LoA2 only).
// The person approves by opening the link.
type URLRequest struct {
	MSISDN         string
	ClientName     string // default "simlab"
	BindingMessage string
	// Timeout is how long to wait for the link to be opened (default 60
	// s); it is also the SMS's validity period.
	Timeout time.Duration
	// Listen is where the one-shot HTTP listener listens (default
	// 127.0.0.1:0, a free loopback port).
	Listen string
	// Base is the URL prefix put in the SMS, for a phone that reaches the
	// listener by another address (say http://192.0.2.10:9000); default
	// http://<the listener's address>.
	Base string
}

// SendText submits text as a plain SMS (GSM 7-bit, or UCS2 when a
// character needs it; concatenated when long) from the Pusher's source
// address to msisdn, with a delivery receipt requested, through one of its
// binds. validity 0 leaves the SMSC's default. It returns the message id of
// every part; AwaitReceipt waits for their receipts.
func (p *Pusher) SendText(ctx context.Context, msisdn, text string, validity time.Duration) ([]string, error) {
	return SendText(ctx, p.client(), p.cfg.Source, msisdn, text, validity)
}

// SendText submits text as a plain SMS through cl (see Pusher.SendText).
// A submit_sm the SMSC refuses comes back as *client.StatusError.
func SendText(ctx context.Context, cl *client.Client, from, to, text string, validity time.Duration) ([]string, error) {
	var ref [1]byte
	if _, err := rand.Read(ref[:]); err != nil {
		return nil, err
	}
	vp := ""
	if validity > 0 {
		// SMPP relative times count whole seconds: round up.
		vp = relativeTime((validity + time.Second - 1) / time.Second * time.Second)
	}
	parts, err := client.SplitText(text, ref[0])
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, part := range parts {
		id, err := cl.Submit(ctx, &client.Message{
			Source:             client.Address{TON: 1, NPI: 1, Addr: from},
			Dest:               client.Address{TON: 1, NPI: 1, Addr: to},
			ESMClass:           part.ESMClass,
			DataCoding:         part.DataCoding,
			RegisteredDelivery: 1,
			ValidityPeriod:     vp,
			ShortMessage:       part.ShortMessage,
		})
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// linkListener is the one-shot web page a login link points at: the first
// GET of its path is the person approving.
type linkListener struct {
	path   string
	srv    *http.Server
	ln     net.Listener
	opened chan linkVisit
	once   sync.Once
}

type linkVisit struct {
	at     time.Time
	remote string
}

func newLinkListener(addr string) (*linkListener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	tok := make([]byte, 12)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("push: link listener: %w", err)
	}
	l := &linkListener{path: "/l/" + hex.EncodeToString(tok), ln: ln, opened: make(chan linkVisit, 1)}
	l.srv = &http.Server{Handler: l, ReadHeaderTimeout: 5 * time.Second}
	go l.srv.Serve(ln)
	return l, nil
}

// ServeHTTP approves on the first GET of the link; every later one finds
// it used (410 Gone). Other paths are 404, HEAD (link previews) does not
// count.
func (l *linkListener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != l.path {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	first := false
	l.once.Do(func() {
		first = true
		l.opened <- linkVisit{at: time.Now(), remote: r.RemoteAddr}
	})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !first {
		w.WriteHeader(http.StatusGone)
		fmt.Fprint(w, "<!doctype html><title>simlab</title><p>This login link was already used.</p>\n")
		return
	}
	fmt.Fprint(w, "<!doctype html><title>simlab</title><p>Login approved. You can close this page.</p>\n")
}

func (l *linkListener) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := l.srv.Shutdown(ctx); err != nil {
		l.srv.Close()
	}
}

// linkText is the SMS of the URL mode: "<client_name>: <binding_message>
// <URL>".
func linkText(clientName, binding, link string) string {
	if clientName == "" {
		clientName = "simlab"
	}
	if binding == "" {
		return clientName + ": " + link
	}
	return clientName + ": " + binding + " " + link
}

// PushURL sends a login link by plain SMS and waits for the person to open
// it: approved with acr "2" when the link is fetched, timeout when nobody
// does within r.Timeout, not_delivered when the delivery receipt says the
// SMS failed. The listener serves only for the duration of the call.
func (p *Pusher) PushURL(ctx context.Context, r URLRequest) (Result, error) {
	start := time.Now()
	msisdn, err := fleet.Normalize(r.MSISDN)
	if err != nil {
		return Result{}, fmt.Errorf("push: %w", err)
	}
	if r.Timeout <= 0 {
		r.Timeout = 60 * time.Second
	}
	l, err := newLinkListener(r.Listen)
	if err != nil {
		return Result{}, err
	}
	defer l.close()
	base := r.Base
	if base == "" {
		base = "http://" + l.ln.Addr().String()
	} else if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Result{}, fmt.Errorf("push: link base %q: want http(s)://host[:port][/path]", base)
	}
	link := strings.TrimRight(base, "/") + l.path
	res := Result{MSISDN: msisdn, TransactionID: strings.TrimPrefix(l.path, "/l/")[:16]}

	cl := p.client()
	t0 := time.Now()
	ids, err := SendText(ctx, cl, p.cfg.Source, msisdn, linkText(r.ClientName, r.BindingMessage, link), r.Timeout)
	res.SubmitLatencyMS = ms(time.Since(t0))
	if err != nil {
		var se *client.StatusError
		if errors.As(err, &se) {
			res.Outcome, res.Detail, res.LatencyMS = NotDelivered, strings.TrimPrefix(err.Error(), "smpp client: "), ms(time.Since(start))
			return res, nil
		}
		return res, p.submitErr(err)
	}
	res.MessageID = ids[0]

	wctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	receipts := p.receipts.awaitAll(wctx, ids)
	for {
		select {
		case v := <-l.opened:
			res.Outcome, res.LatencyMS = outcomeApproved, ms(v.at.Sub(start))
			acr := "2"
			res.ACR = &acr
			res.Detail = "link opened from " + v.remote
			return res, nil
		case rc := <-receipts:
			res.Receipt = rc.Stat + " err:" + rc.Err
			if rc.Delivered() {
				receipts = nil
				continue
			}
			res.Outcome, res.Detail, res.LatencyMS = NotDelivered, "delivery receipt "+rc.Stat+" err:"+rc.Err, ms(time.Since(start))
			return res, nil
		case <-p.watch.Lost():
			res.LatencyMS = ms(time.Since(start))
			return res, p.watch.Err()
		case <-wctx.Done():
			res.LatencyMS = ms(time.Since(start))
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			res.Outcome, res.Detail = TimedOut, fmt.Sprintf("the link was not opened within %v", r.Timeout)
			return res, nil
		}
	}
}

// digits returns n random decimal digits (crypto/rand, no modulo bias).
func digits(n int) (string, error) {
	b := make([]byte, 0, n)
	var buf [1]byte
	for len(b) < n {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", err
		}
		if buf[0] >= 250 { // 250..255 would bias 0..5
			continue
		}
		b = append(b, '0'+buf[0]%10)
	}
	return string(b), nil
}
