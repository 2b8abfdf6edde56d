package simulator

import (
	"context"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/simlab-dev/simlab/smsc"
)

func TestLabConfig(t *testing.T) {
	t.Parallel()
	var lc LabConfig
	err := yaml.Unmarshal([]byte(`
bearers: ["smpp://u:p@127.0.0.1:1"]
bearer_receipt_timeout: 5s
attach:
  - {reader: "Virtual PCD 00 00", msisdn: "+4930123456", answer: cancel}
`), &lc)
	if err != nil {
		t.Fatal(err)
	}
	if len(lc.Bearers) != 1 || lc.ReceiptTimeout != 5*time.Second || len(lc.Attach) != 1 || lc.Attach[0].Answer != "cancel" {
		t.Fatalf("LabConfig = %+v", lc)
	}
	a, err := ParseAttach("Reader=with=equals 00 00=+4930123456")
	if err != nil || a.Reader != "Reader=with=equals 00 00" || a.MSISDN != "+4930123456" {
		t.Fatalf("ParseAttach = %+v, %v", a, err)
	}
	for _, bad := range []string{"", "=4930", "Reader=", "no-equals"} {
		if _, err := ParseAttach(bad); err == nil {
			t.Errorf("ParseAttach(%q) accepted", bad)
		}
	}
}

// TestStartLab connects an upstream bearer from the configuration and
// stops it again; a failing entry leaves nothing behind.
func TestStartLab(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	up := startTest(t, Config{HTTPAddr: "off"})
	s := startTest(t, Config{HTTPAddr: "off"})
	far := &smsc.Message{Dest: smsc.Address{Addr: "4915112345678"}}
	l, err := s.Core().StartLab(ctx, LabConfig{Bearers: []string{"smpp://lab:pw@" + up.Addrs().SMPP}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Core().routes.Route(far) == nil {
		t.Fatal("no route to the bearer")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Core().routes.Route(far) != nil {
		t.Fatal("route left after Close")
	}
	_, err = s.Core().StartLab(ctx, LabConfig{
		Bearers: []string{"smpp://lab:pw@" + up.Addrs().SMPP},
		Attach:  []AttachRequest{{Reader: "R", MSISDN: "4930", Answer: "dance"}},
	}, nil)
	if err == nil || !strings.Contains(err.Error(), "dance") {
		t.Fatalf("StartLab with a bad answer = %v", err)
	}
	if s.Core().routes.Route(far) != nil {
		t.Fatal("bearer left behind by a failed StartLab")
	}
}
