package simtest_test

import (
	"testing"

	"github.com/simlab-dev/simlab/simulator/simtest"
)

// TestLogin: the headless login helper returns checked tokens, and the
// login ran on the phone.
func TestLogin(t *testing.T) {
	t.Parallel()
	s := simtest.NewServer(t)
	n := simtest.Number(t, "no-pin-support", 91)
	res := s.Login(t, n, "3 2")
	if res.Claims["acr"] != "2" || res.AccessToken == "" || res.IDToken == "" {
		t.Fatalf("%+v", res.Claims)
	}
	if len(s.Phone(t, n).Events()) == 0 {
		t.Fatal("the phone saw no challenge")
	}
}

// ExampleServer_Login shows a Go test logging a subscriber in through the
// Mobile Connect gateway with the SIM PIN.
func ExampleServer_Login() {
	t := &testing.T{} // in a real test, the test's own t
	s := simtest.NewServer(t)
	res := s.Login(t, simtest.Number(t, "approve", 92), "3")
	_ = res.Claims["sub"] // the PCR: stable per subscriber and client
}
