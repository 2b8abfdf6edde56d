package load

import (
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

	hs := s.Histograms()
	// SessionBuckets: 0.001 0.002 0.005 … 1 2 5 10 30 60
	if a := hs["approved"]; a.Count != 100 || a.Cumulative[1] != 0 || a.Cumulative[2] != 100 || a.Cumulative[len(a.Cumulative)-1] != 100 {
		t.Errorf("approved histogram %+v", a)
	}
	if c := hs["cancelled"]; c.Count != 1 || c.Sum != 1.5 || c.Cumulative[9] != 0 || c.Cumulative[10] != 1 {
		t.Errorf("cancelled histogram %+v", c)
	}
	if to := hs["timeout"]; to.Count != 1 || to.Cumulative[len(to.Cumulative)-1] != 0 {
		t.Errorf("timeout histogram %+v (only +Inf holds it)", to)
	}
	s.Reset()
	if len(s.Snapshot()) != 0 {
		t.Error("Reset kept observations")
	}
}
