package capture_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/capture"
	"github.com/simlab-dev/simlab/smsc/smppload"
)

// BenchmarkSubmitSMStreams is BenchmarkSubmitSM (smsc) with live-update
// streams attached to the capture API, as web pages keep them open: none,
// 5 and 20 reading every event, none again, and 500 that never read (a
// stuck or suspended tab). It reports submit_sm/s and the process's CPU
// per message: the SMSC, the streams and the SMPP client. The readers run
// as curl processes (when curl is there; else in this process, and their
// CPU counts too), so the figure is what the pages cost the server, not
// what the browsers spend reading. The first run of a process also pays
// for it warming up: "warm-up" takes that, "streams=0-again" shows what is
// left. Compare within one process, several times:
//
//	go test -c -o streams.test ./smsc/capture/
//	for i in 1 2 3 4 5 6; do ./streams.test -test.run '^$' -test.benchtime 200000x \
//	    -test.bench 'SubmitSMStreams/(warm-up|streams=0|streams=5)$'; done
func BenchmarkSubmitSMStreams(b *testing.B) {
	for _, c := range []struct {
		name    string
		streams int
		read    bool
	}{{"warm-up", 0, true}, {"streams=0", 0, true}, {"streams=5", 5, true}, {"streams=20", 20, true}, {"streams=0-again", 0, true}, {"unread=500", 500, false}} {
		b.Run(c.name, func(b *testing.B) { benchStreams(b, c.streams, c.read) })
	}
}

func benchStreams(b *testing.B, streams int, read bool) {
	store := smsc.NewMemStore(max(200_000, b.N))
	api := capture.New(store)
	srv := &smsc.Server{Store: store, OnEvent: api.Publish, WantEvents: api.Subscribed}
	smppLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(smppLn)
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	hs := &http.Server{Handler: api}
	go hs.Serve(httpLn)
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(func() {
		cancel()
		api.Close()
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		hs.Shutdown(sctx)
		srv.Shutdown(sctx)
	})
	url := "http://" + httpLn.Addr().String() + "/api/v1/messages/stream"
	curl, _ := exec.LookPath("curl")
	tr := &http.Transport{MaxIdleConnsPerHost: streams + 1}
	cl := &http.Client{Transport: tr}
	for range streams {
		if read && curl != "" {
			// curl parses the HTTP and the chunks; this process only
			// drains a pipe, after the stream's first line proves it open.
			cmd := exec.CommandContext(ctx, curl, "-sN", url)
			out, err := cmd.StdoutPipe()
			if err != nil {
				b.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { cancel(); cmd.Wait() })
			rd := bufio.NewReader(out)
			if l, _ := rd.ReadString('\n'); !strings.HasPrefix(l, ":") {
				b.Fatalf("stream answered %q", l)
			}
			go io.Copy(io.Discard, rd)
			continue
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		resp, err := cl.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		rd := bufio.NewReader(resp.Body)
		if l, _ := rd.ReadString('\n'); !strings.HasPrefix(l, ":") {
			b.Fatalf("stream answered %q", l)
		}
		if read {
			go func() { io.Copy(io.Discard, rd); resp.Body.Close() }()
		} else {
			b.Cleanup(func() { resp.Body.Close() })
		}
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	res, err := smppload.Run(context.Background(), smppload.Config{Addr: smppLn.Addr().String(), SystemID: "bench", Password: "x",
		Binds: 4, Window: 50, Messages: b.N})
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if res.Errors != 0 || res.Submitted != int64(b.N) {
		b.Fatalf("%v", res)
	}
	b.ReportMetric(res.PerSecond, "submit/s")
	b.ReportMetric(float64(res.P99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/msg")
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPage100k is what the web page asks of the capture API with
// 100,000 messages in the store: the newest page of 50, an older page
// (cursor), one message decoded, and a text search that matches nothing,
// so it reads every message.
//
//	go test -run '^$' -bench Page100k ./smsc/capture/
func BenchmarkPage100k(b *testing.B) {
	const n = 100_000
	store := smsc.NewMemStore(n)
	start := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	for i := range n {
		dcs, body := smsc.EncodeText(fmt.Sprintf("Your Example Bank code is %06d", i))
		store.Append(context.Background(), &smsc.Message{ID: strconv.Itoa(i + 1), Namespace: "bench", Direction: smsc.MT,
			Source: smsc.Address{TON: 5, Addr: "BANK"}, Dest: smsc.Address{TON: 1, NPI: 1, Addr: fmt.Sprintf("999010%05d", i%50_000)},
			DCS: dcs, Body: body, State: smsc.Delivered, SubmitTime: start.Add(time.Duration(i) * time.Millisecond)})
	}
	h := capture.New(store)
	for _, c := range []struct{ name, path string }{
		{"newest-50", "/api/v1/messages?limit=50"},
		{"older-50", "/api/v1/messages?limit=50&cursor=50000"},
		{"one-decoded", "/api/v1/messages/77777"},
		{"search-number", "/api/v1/messages?limit=50&number=99901012345"},
		{"search-text-none", "/api/v1/messages?limit=50&text=no+such+words"},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", c.path, nil)
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("%s: %d %s", c.path, w.Code, w.Body)
				}
			}
		})
	}
}
