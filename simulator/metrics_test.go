package simulator

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// scrape reads /metrics with the Prometheus text parser.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Accept", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return fams
}

// value returns the value of the series of family name whose labels
// include want (name=value pairs); ok is false when there is none.
func value(fams map[string]*dto.MetricFamily, name string, want ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(want); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == want[i] && l.GetValue() == want[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

// TestMetricsAfterTraffic: after known SMPP traffic and one challenge,
// /metrics (parsed with the Prometheus text parser) has the figures: binds
// by account and type, submits by command_status, throttled submits, final
// states, the phones' session histogram, the Go and process collectors.
func TestMetricsAfterTraffic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startTest(t, Config{Accounts: []smsc.Account{
		{SystemID: "sut", Password: "secret", Throughput: 1},
		{SystemID: "plain", Password: "secret"},
		{SystemID: "pusher", Password: "secret", DefaultMO: true},
	}})
	base := "http://" + s.Addrs().HTTP
	cl, err := client.Dial(ctx, client.Config{Addr: s.Addrs().SMPP, SystemID: "sut", Password: "secret", NoReconnect: true, ThrottleRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close(ctx)
	// Throughput 1: the bucket holds one token, a second submit within
	// the second is throttled.
	if _, err := cl.Submit(ctx, &client.Message{Dest: client.Address{Addr: "4912345"}, ShortMessage: []byte("hello")}); err != nil {
		t.Fatal(err)
	}
	var se *client.StatusError
	if _, err := cl.Submit(ctx, &client.Message{Dest: client.Address{Addr: "4912345"}, ShortMessage: []byte("too fast")}); !errors.As(err, &se) || se.Status != uint32(pdu.StatusThrottled) {
		t.Fatalf("second submit: %v, want ESME_RTHROTTLED", err)
	}
	plain, err := client.Dial(ctx, client.Config{Addr: s.Addrs().SMPP, SystemID: "plain", Password: "secret", NoReconnect: true, Mode: client.Transmitter})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close(ctx)
	if _, err := plain.Submit(ctx, &client.Message{Dest: client.Address{Addr: ""}, ShortMessage: []byte("nowhere")}); !errors.As(err, &se) || se.Status != uint32(pdu.StatusInvDstAdr) {
		t.Fatalf("empty destination: %v, want ESME_RINVDSTADR", err)
	}

	p, err := push.New(ctx, push.Config{SMPP: client.Config{Addr: s.Addrs().SMPP, SystemID: "pusher", Password: "secret", NoReconnect: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	n, _ := fleet.MagicNumberFor("approve", 4242)
	res, err := p.Push(ctx, push.Request{MSISDN: n, LoA: authn.LoA2, Timeout: 20 * time.Second})
	if err != nil || res.Outcome != "approved" {
		t.Fatalf("push: %+v %v", res, err)
	}
	ph, err := s.Core().Fleet.Phone(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	ph.Wait() // the phone's session has ended and been observed

	fams := scrape(t, base)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"simlab_smpp_binds", []string{"account", "sut", "bind_type", "transceiver"}, 1},
		{"simlab_smpp_binds", []string{"account", "plain", "bind_type", "transmitter"}, 1},
		{"simlab_smpp_submits_total", []string{"command_status", "ESME_ROK"}, 2}, // sut's first, the challenge
		{"simlab_smpp_submits_total", []string{"command_status", "ESME_RINVDSTADR"}, 1},
		{"simlab_smpp_submits_total", []string{"command_status", "ESME_RTHROTTLED"}, 1},
		{"simlab_smpp_throttled_total", []string{"account", "sut"}, 1},
		{"simlab_smpp_mo_received_total", nil, 1}, // the phone's answer
		{"simlab_phone_session_seconds", []string{"outcome", "approved"}, 1},
		{"simlab_phones_materialised", nil, 1},
		{"simlab_smpp_queue_depth", []string{"kind", "mt"}, 0},
	} {
		got, ok := value(fams, c.name, c.labels...)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	// The accepted MT and the challenge reached DELIVERED; the answer's
	// state depends on when the pusher acknowledged it.
	if got, _ := value(fams, "simlab_smpp_messages_final_total", "state", "DELIVERED"); got < 2 {
		t.Errorf("messages DELIVERED = %v, want at least 2", got)
	}
	if got, _ := value(fams, "simlab_smpp_binds", "account", "pusher"); got < 1 {
		t.Errorf("pusher binds = %v", got)
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes", "simlab_smpp_connections", "simlab_smpp_retries_total", "simlab_smpp_receipts_owed"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if h := fams["simlab_phone_session_seconds"]; h == nil || h.GetType() != dto.MetricType_HISTOGRAM {
		t.Errorf("simlab_phone_session_seconds is not a histogram: %v", h)
	}
	if strings.Contains(fams["simlab_smpp_binds"].String(), "secret") {
		t.Error("a password reached /metrics")
	}
}

// TestMetricsWithoutFleet: without the fleet /metrics has the SMSC's
// figures and no fleet ones.
func TestMetricsWithoutFleet(t *testing.T) {
	t.Parallel()
	s := startTest(t, Config{NoFleet: true})
	fams := scrape(t, "http://"+s.Addrs().HTTP)
	if _, ok := fams["simlab_smpp_connections"]; !ok {
		t.Error("no SMSC metrics")
	}
	if _, ok := fams["simlab_phones_materialised"]; ok {
		t.Error("fleet metrics without a fleet")
	}
	if code, _, _ := call(t, nil, "GET", "http://"+s.Addrs().HTTP+"/api/v1/phones", nil, ""); code != 404 {
		t.Errorf("control API without a fleet: %d, want 404", code)
	}
}
