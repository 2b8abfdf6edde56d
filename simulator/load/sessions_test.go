package load

import (
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSessionLatency(t *testing.T) {
	t.Parallel()
	var s SessionLatency
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 25; j++ {
				s.Observe("approved", 3*time.Millisecond) // bucket le=0.005
			}
		}()
	}
	wg.Wait()
	s.Observe("cancelled", 1500*time.Millisecond) // le=2
	s.Observe("timeout", 2*time.Minute)           // only +Inf

	snap := s.Snapshot()
	if a := snap["approved"]; a.Count != 100 || a.P50 < 2.99 || a.P50 > 3.01 {
		t.Errorf("approved = %+v", a)
	}
	if all := snap["all"]; all.Count != 102 || all.Max < 119_000 {
		t.Errorf("all = %+v", all)
	}

	var b strings.Builder
	if err := s.WritePrometheus(&b, "simlab_phone_session_seconds"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"# TYPE simlab_phone_session_seconds histogram\n",
		`simlab_phone_session_seconds_bucket{outcome="approved",le="0.002"} 0` + "\n",
		`simlab_phone_session_seconds_bucket{outcome="approved",le="0.005"} 100` + "\n",
		`simlab_phone_session_seconds_bucket{outcome="approved",le="60"} 100` + "\n",
		`simlab_phone_session_seconds_count{outcome="approved"} 100` + "\n",
		`simlab_phone_session_seconds_bucket{outcome="cancelled",le="1"} 0` + "\n",
		`simlab_phone_session_seconds_bucket{outcome="cancelled",le="2"} 1` + "\n",
		`simlab_phone_session_seconds_sum{outcome="cancelled"} 1.5` + "\n",
		`simlab_phone_session_seconds_bucket{outcome="timeout",le="60"} 0` + "\n",
		`simlab_phone_session_seconds_bucket{outcome="timeout",le="+Inf"} 1` + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("exposition lacks %q:\n%s", want, out)
		}
	}
	s.Reset()
	if len(s.Snapshot()) != 0 {
		t.Error("Reset kept observations")
	}
}
