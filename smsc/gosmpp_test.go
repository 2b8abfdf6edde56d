package smsc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fiorix/go-smpp/smpp"
	gopdu "github.com/fiorix/go-smpp/smpp/pdu"
	"github.com/fiorix/go-smpp/smpp/pdu/pdufield"
	"github.com/fiorix/go-smpp/smpp/pdu/pdutext"
	"github.com/fiorix/go-smpp/smpp/pdu/pdutlv"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// startServer serves srv on a free loopback port and shuts it down at the
// end of the test.
func startServer(t *testing.T, srv *smsc.Server) string {
	t.Helper()
	l, err := listenLoopback()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	return l.Addr().String()
}

func listenLoopback() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// awaitBound waits for go-smpp's first connection status and fails unless
// it is Connected.
func awaitBound(t *testing.T, ch <-chan smpp.ConnStatus) {
	t.Helper()
	select {
	case st := <-ch:
		if st.Status() != smpp.Connected {
			t.Fatalf("bind: status %v, err %v", st.Status(), st.Error())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("bind: no status")
	}
}

// TestGoSMPPTransceiverReceipt is the acceptance path: any credentials bind
// on loopback, a submit asks for a receipt, and the receipt names the id in
// its text and in receipted_message_id.
func TestGoSMPPTransceiverReceipt(t *testing.T) {
	t.Parallel()
	store := smsc.NewMemStore(0)
	srv := &smsc.Server{Store: store}
	addr := startServer(t, srv)

	id, rc, tc := goSMPPReceipt(t, addr, "anyone", &smpp.ShortMessage{Src: "SimLab", Dst: "99900000001", Text: pdutext.Raw("Your code is 123456"),
		Register: pdufield.FinalDeliveryReceipt, SourceAddrTON: 5})
	f := rc.Fields()
	if esm := f[pdufield.ESMClass].Bytes()[0]; esm != 0x04 {
		t.Errorf("receipt esm_class = %#x, want 0x04", esm)
	}
	text := string(f[pdufield.ShortMessage].Bytes())
	r, err := smsc.ParseReceipt(text)
	if err != nil {
		t.Fatalf("receipt %q: %v", text, err)
	}
	if r.ID != id || r.State != smsc.Delivered || !strings.Contains(text, "stat:DELIVRD") {
		t.Errorf("receipt %q does not report id %s delivered", text, id)
	}
	tlv := rc.TLVFields()
	if got := strings.TrimRight(string(tlv[pdutlv.TagReceiptedMessageID].Bytes()), "\x00"); got != id {
		t.Errorf("receipted_message_id = %q, want %q", got, id)
	}
	if st := tlv[pdutlv.TagMessageStateOption].Bytes(); len(st) != 1 || st[0] != byte(smsc.Delivered) {
		t.Errorf("message_state = %v, want 2", st)
	}
	if got := f[pdufield.SourceAddr].String(); got != "99900000001" {
		t.Errorf("receipt source_addr = %q", got)
	}

	// query_sm with the same id.
	q, err := tc.QuerySM("SimLab", id, 5, 0)
	if err != nil {
		t.Fatalf("query_sm: %v", err)
	}
	if q.MsgID != id || q.MsgState != "DELIVERED" {
		t.Errorf("query_sm = %+v", q)
	}

	// The message is captured with its text.
	page, err := store.List(context.Background(), smsc.Query{Filter: smsc.Filter{AllNamespaces: true, To: "99900000001"}})
	if err != nil || len(page.Messages) != 1 {
		t.Fatalf("list: %v %d", err, len(page.Messages))
	}
	if txt, _ := page.Messages[0].Text(); txt != "Your code is 123456" || page.Messages[0].Namespace != "anyone" {
		t.Errorf("captured %q in namespace %q", txt, page.Messages[0].Namespace)
	}
}

// TestGoSMPPBindTypes binds a transmitter and a receiver with go-smpp; an
// MO from a phone reaches the receiver.
func TestGoSMPPBindTypes(t *testing.T) {
	t.Parallel()
	events := make(chan smsc.Event, 16)
	srv := &smsc.Server{Accounts: []smsc.Account{
		{SystemID: "sut", Password: "secret", MORanges: []string{"12345"}},
	}, OnEvent: func(e smsc.Event) {
		if e.Type == smsc.EventState {
			events <- e
		}
	}}
	addr := startServer(t, srv)

	tx := &smpp.Transmitter{Addr: addr, User: "sut", Passwd: "secret"}
	defer tx.Close()
	awaitBound(t, tx.Bind())
	if _, err := tx.Submit(&smpp.ShortMessage{Src: "12345", Dst: "99900000002", Text: pdutext.GSM7("hi [there]")}); err != nil {
		t.Fatalf("submit: %v", err)
	}

	var mu sync.Mutex
	got := make(chan gopdu.Body, 1)
	rx := &smpp.Receiver{Addr: addr, User: "sut", Passwd: "secret", Handler: func(p gopdu.Body) {
		mu.Lock()
		defer mu.Unlock()
		if p.Header().ID == gopdu.DeliverSMID {
			got <- p
		}
	}}
	defer rx.Close()
	// The MO is queued before the receiver binds and delivered after.
	id, err := srv.SubmitMO(context.Background(), &smsc.Message{
		Source: smsc.Address{TON: 1, NPI: 1, Addr: "99900000002"}, Dest: smsc.Address{Addr: "12345"},
		DCS: 0x08, Body: []byte{0x00, 'O', 0x00, 'K', 0x20, 0xAC},
	})
	if err != nil {
		t.Fatal(err)
	}
	awaitBound(t, rx.Bind())
	select {
	case p := <-got:
		f := p.Fields()
		if f[pdufield.DestinationAddr].String() != "12345" || f[pdufield.DataCoding].Bytes()[0] != 8 {
			t.Errorf("MO deliver_sm fields %v", f)
		}
		if b := f[pdufield.ShortMessage].Bytes(); string(b) != "\x00O\x00K\x20\xac" {
			t.Errorf("MO body % x", b)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("MO not delivered")
	}
	// The state changes when go-smpp's deliver_sm_resp arrives.
	var m *smsc.Message
	select {
	case e := <-events:
		m = e.Message
	case <-time.After(10 * time.Second):
		t.Fatal("no state change for the MO")
	}
	if m.ID != id || m.State != smsc.Delivered || m.Account != "sut" || m.Namespace != "sut" {
		t.Errorf("MO state %v account %q ns %q", m.State, m.Account, m.Namespace)
	}
}

// selfSigned returns a TLS config with a fresh self-signed certificate for
// 127.0.0.1.
func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "simlab test"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// TestGoSMPPTLSAndMulti binds go-smpp over TLS and sends a submit_multi
// with two numbers and a distribution list.
func TestGoSMPPTLSAndMulti(t *testing.T) {
	t.Parallel()
	store := smsc.NewMemStore(0)
	srv := &smsc.Server{Store: store, TLSConfig: selfSigned(t)}
	addr := startServer(t, srv)
	tx := &smpp.Transmitter{Addr: addr, User: "tls", Passwd: "pw", TLS: &tls.Config{InsecureSkipVerify: true}}
	defer tx.Close()
	awaitBound(t, tx.Bind())
	sm, err := tx.Submit(&smpp.ShortMessage{Src: "SimLab", DstList: []string{"99900000031", "99900000032"}, DLs: []string{"friends"},
		Text: pdutext.UCS2("Привет")})
	if err != nil {
		t.Fatalf("submit_multi: %v", err)
	}
	un, err := sm.UnsuccessSmes()
	if err != nil || len(un) != 1 || strings.TrimRight(un[0].Address, "\x00") != "friends" || uint32(un[0].Error) != uint32(pdu.StatusInvDLName) {
		t.Errorf("unsuccess %+v %v", un, err)
	}
	p, _ := store.List(context.Background(), smsc.Query{Filter: smsc.Filter{Namespace: "tls"}})
	if len(p.Messages) != 2 || p.Messages[0].Multi != sm.RespID() || p.Messages[1].Multi != sm.RespID() {
		t.Fatalf("stored %d messages for multi id %q", len(p.Messages), sm.RespID())
	}
	if txt, _ := p.Messages[0].Text(); txt != "Привет" || p.Messages[0].DCS != 8 {
		t.Errorf("stored text %q dcs %d", txt, p.Messages[0].DCS)
	}
}

// TestGoSMPPWindows: go-smpp pipelines submits with its own window, and the
// server feeds a go-smpp receiver through a deliver window of 2.
func TestGoSMPPWindows(t *testing.T) {
	t.Parallel()
	srv := &smsc.Server{Accounts: []smsc.Account{{SystemID: "w", Password: "pw", Window: 2, MORanges: []string{"7000-7999"}}}}
	addr := startServer(t, srv)
	var got sync.WaitGroup
	got.Add(20)
	tc := &smpp.Transceiver{Addr: addr, User: "w", Passwd: "pw", WindowSize: 5, Handler: func(p gopdu.Body) {
		if p.Header().ID == gopdu.DeliverSMID {
			got.Done()
		}
	}}
	defer tc.Close()
	awaitBound(t, tc.Bind())
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	sem := make(chan struct{}, 5) // go-smpp fails (not waits) beyond its window
	for i := range 100 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := tc.Submit(&smpp.ShortMessage{Src: "7001", Dst: "9990000" + strconv.Itoa(1000+i), Text: pdutext.Raw("w")})
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("submit: %v", err)
	}
	for i := range 20 {
		if _, err := srv.SubmitMO(context.Background(), &smsc.Message{Source: smsc.Address{Addr: "99900000001"},
			Dest: smsc.Address{Addr: "7" + strconv.Itoa(100+i)}, Body: []byte("mo")}); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() { got.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("not every MO reached the receiver")
	}
}
