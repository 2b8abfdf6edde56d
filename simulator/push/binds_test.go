package push_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/simulator/simtest"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// TestFailureReceiptOnAnotherBind: an SMSC may hand a delivery receipt to
// any bind of the account (SMPP v3.4 §2.3). simlab's prefers the
// submitting bind (docs/smsc.md, "Routing"), so here the receipts come on
// the bind that submitted, after one refused submit_sm (no receipt) has put
// the Pusher's round-robin one bind ahead (receipts_test.go tests the
// dispatcher, which matches by message id whatever the bind). Each failure
// must end its challenge as not_delivered at once, not as a timeout after
// the wait.
func TestFailureReceiptOnAnotherBind(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	ctx := context.Background()
	p, err := push.New(ctx, push.Config{Binds: 2,
		SMPP: client.Config{Addr: s.SMPPAddr, SystemID: "two-binds", Password: "x", NoReconnect: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })

	refused := simtest.Number(t, "approve", 8301)
	s.SMSC().Faults.SetDest(refused, smsc.Fault{SubmitStatus: pdu.StatusSysErr})
	res, err := p.Push(ctx, push.Request{MSISDN: refused, LoA: authn.LoA2, Timeout: 5 * time.Second})
	if err != nil || res.Outcome != push.NotDelivered || !strings.Contains(res.Detail, "submit_sm refused") {
		t.Fatalf("refused submit: %+v %v", res, err)
	}

	// Short waits: without the receipt each would end as a timeout
	// (Push waits Timeout + 10 s, PushOTP and PushURL Timeout).
	for i := range 4 {
		n := simtest.Number(t, "delivery-error", 8300+i)
		res, err := p.Push(ctx, push.Request{MSISDN: n, LoA: authn.LoA2, Timeout: 2 * time.Second})
		if err != nil || res.Outcome != push.NotDelivered || !strings.HasPrefix(res.Receipt, "UNDELIV") {
			t.Fatalf("challenge %d: %+v %v", i, res, err)
		}
	}
	for i := range 2 {
		n := simtest.Number(t, "delivery-error", 8310+i)
		res, err := p.PushOTP(ctx, push.OTPRequest{MSISDN: n, API: s.URL, Timeout: 3 * time.Second})
		if err != nil || res.Outcome != push.NotDelivered || !strings.HasPrefix(res.Receipt, "UNDELIV") {
			t.Fatalf("OTP %d: %+v %v", i, res, err)
		}
	}
	for i := range 2 {
		n := simtest.Number(t, "delivery-error", 8320+i)
		res, err := p.PushURL(ctx, push.URLRequest{MSISDN: n, Timeout: 3 * time.Second})
		if err != nil || res.Outcome != push.NotDelivered || !strings.HasPrefix(res.Receipt, "UNDELIV") {
			t.Fatalf("URL %d: %+v %v", i, res, err)
		}
	}

	// A text sent with SendText: its receipt is found whichever bind it
	// came on.
	ids, err := p.SendText(ctx, simtest.Number(t, "approve", 8330), "hello", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if rc, err := p.AwaitReceipt(rctx, ids[0]); err != nil || !rc.Delivered() {
		t.Errorf("SendText receipt: %+v %v", rc, err)
	}
}
