package apiclient_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/apiclient"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc/client"
)

// startSimlab stands in for the `simlab serve` a CI job runs, so that the
// examples run: it starts one in this process on free loopback ports and
// returns its HTTP base URL and SMPP address.
func startSimlab() (apiURL, smppAddr string, stop func()) {
	s, err := simulator.Start(simulator.Config{SMPPAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"})
	if err != nil {
		log.Fatal(err)
	}
	return "http://" + s.Addrs().HTTP, s.Addrs().SMPP, func() { _ = s.Shutdown(context.Background()) }
}

// Script a phone and read it back.
func Example() {
	apiURL, _, stop := startSimlab()
	defer stop()
	ctx := context.Background()

	c, err := apiclient.New(apiURL) // "http://127.0.0.1:8775" for `simlab serve`
	if err != nil {
		log.Fatal(err)
	}
	// A magic number: the outcome comes with the number (docs/numbers.md).
	p, err := c.Phone(ctx, "+99900010001")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Magic, p.PIN.TriesLeft)

	// An ordinary phone, scripted: a wrong PIN next time, then always approve.
	b := apiclient.Behaviour{
		Steps:    []apiclient.Step{{Answer: "wrong-pin"}},
		Then:     apiclient.Step{Answer: "approve"},
		OpenURLs: true,
	}
	if err := b.Validate(); err != nil {
		log.Fatal(err)
	}
	p, err = c.UpdatePhone(ctx, "+99901000042", apiclient.PhoneUpdate{Behaviour: &b})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Scripted, p.Behaviour.Steps[0].Answer, p.Behaviour.Then.Answer)
	// Output:
	// cancel 3
	// true wrong-pin approve
}

// A test's own namespace: its SMPP binds use the namespace's name as
// system_id, so what they send is captured there, and its numbers are
// leased to it alone. The service under test sends a one-time code; the
// test reads it back.
func ExampleClient_WaitOTP() {
	apiURL, smppAddr, stop := startSimlab()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	c, err := apiclient.New(apiURL)
	if err != nil {
		log.Fatal(err)
	}
	ns, err := c.CreateNamespace(ctx, apiclient.NamespaceRequest{Label: "ExampleOTP"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.DeleteNamespace(context.Background(), ns.Name)
	nums, err := c.LeaseNumbers(ctx, ns.Name, apiclient.LeaseRequest{Outcome: "approve"})
	if err != nil {
		log.Fatal(err)
	}

	// The service under test, bound as the namespace (here simlab's own
	// SMPP client stands in for it).
	svc, err := push.New(ctx, push.Config{Source: ns.Source,
		SMPP: client.Config{Addr: smppAddr, SystemID: ns.Name, Password: "secret", AddressRange: ns.Source}})
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close(context.Background())
	if _, err := svc.SendText(ctx, nums[0], "Your Example Bank code is 482913", time.Minute); err != nil {
		log.Fatal(err)
	}

	// Since: a code sent before the call is found too.
	otp, err := c.WithNamespace(ns.Name).WaitOTP(ctx, apiclient.OTPRequest{
		Filter: apiclient.Filter{To: nums[0], Since: ns.Created},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(otp.OTP)
	// Output: 482913
}

// Follow messages as the SMSC stores them.
func ExampleClient_StreamMessages() {
	apiURL, smppAddr, stop := startSimlab()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	c, err := apiclient.New(apiURL)
	if err != nil {
		log.Fatal(err)
	}
	st, err := c.StreamMessages(ctx, apiclient.Filter{To: "99901000077"})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	svc, err := push.New(ctx, push.Config{SMPP: client.Config{Addr: smppAddr, SystemID: "bank", Password: "secret"}})
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close(context.Background())
	if _, err := svc.SendText(ctx, "99901000077", "Hello", time.Minute); err != nil {
		log.Fatal(err)
	}
	ev, err := st.Next()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ev.Kind, ev.Message.Namespace, ev.Message.Body())
	// Output: message bank Hello
}

// An answer outside 2xx is an *Error with the server's status and message.
func ExampleError() {
	apiURL, _, stop := startSimlab()
	defer stop()

	c, err := apiclient.New(apiURL)
	if err != nil {
		log.Fatal(err)
	}
	_, err = c.Phone(context.Background(), "4915112345678")
	var e *apiclient.Error
	if errors.As(err, &e) {
		fmt.Println(e.StatusCode, e.Message)
	}
	// Output: 404 fleet: number is not in the fleet's plan: 4915112345678
}
