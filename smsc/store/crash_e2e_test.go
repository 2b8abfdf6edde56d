package store_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/client"
	"github.com/simlab-dev/simlab/smsc/store"
)

// Environment of the child process of TestServerCrash.
const (
	envDir   = "SIMLAB_SMSC_CRASH_DIR"
	envPhone = "SIMLAB_SMSC_CRASH_PHONE"
	envMode  = "SIMLAB_SMSC_CRASH_MODE"
)

// notifyStore signals after every durable update, so the draining child
// can wait for the queue to empty without polling.
type notifyStore struct {
	*store.Store
	ch chan struct{}
}

func (s notifyStore) Update(ctx context.Context, id string, fn func(*smsc.Message)) (*smsc.Message, error) {
	m, err := s.Store.Update(ctx, id, fn)
	s.notify()
	return m, err
}

// Patch is how the engine records state changes (smsc.Patcher).
func (s notifyStore) Patch(ctx context.Context, id string, fn func(*smsc.Message)) error {
	err := s.Store.Patch(ctx, id, fn)
	s.notify()
	return err
}

func (s notifyStore) notify() {
	select {
	case s.ch <- struct{}{}:
	default:
	}
}

// TestServerCrashChild is the SMSC process TestServerCrash kills. Mode
// "serve" serves until killed; mode "drain" recovers, delivers what is
// pending, and exits cleanly.
func TestServerCrashChild(t *testing.T) {
	dir := os.Getenv(envDir)
	if dir == "" {
		t.Skip("runs as TestServerCrash's child process")
	}
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ns := notifyStore{st, make(chan struct{}, 1)}
	phone, err := os.OpenFile(os.Getenv(envPhone), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	// The phone: every delivery is one line in a file, written before the
	// SMSC hears it was delivered (a SIGKILL keeps what write returned).
	var pmu sync.Mutex
	sink := smsc.SinkFunc(func(_ context.Context, m *smsc.Message) error {
		pmu.Lock()
		defer pmu.Unlock()
		_, err := fmt.Fprintln(phone, m.ID)
		return err
	})
	routes := &smsc.Routes{}
	routes.AddPrefix("", sink)
	srv := &smsc.Server{Store: ns, Router: routes, Logger: slog.New(slog.DiscardHandler)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	if os.Getenv(envMode) == "serve" {
		fmt.Printf("addr %s\n", l.Addr())
		select {} // until killed
	}
	// Drain: wait until nothing is pending.
	deadline := time.After(30 * time.Second)
	// Serve recovers the pending messages on its goroutine; each
	// recovered message ends in a durable Update, which wakes this loop.
	for {
		p, _ := st.Pending(context.Background())
		if len(p) == 0 {
			break
		}
		select {
		case <-ns.ch:
		case <-deadline:
			t.Fatalf("%d messages still pending", len(p))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	st.Close()
	fmt.Println("drained")
}

// TestServerCrash: an SMSC on the durable store is killed (SIGKILL) while
// an ESME submits; after a restart every acknowledged message is delivered
// or reported in a final state, and no message reaches the phone twice.
func TestServerCrash(t *testing.T) {
	if os.Getenv(envDir) != "" {
		t.Skip("child mode")
	}
	t.Parallel()
	dir := t.TempDir()
	phoneLog := dir + "/phone.log"
	child := func(mode string) (*exec.Cmd, *bufio.Scanner) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestServerCrashChild$")
		cmd.Env = append(os.Environ(), envDir+"="+dir+"/db", envPhone+"="+phoneLog, envMode+"="+mode)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, bufio.NewScanner(out)
	}
	cmd, sc := child("serve")
	var addr string
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "addr "); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		t.Fatal("child printed no address")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := client.Dial(ctx, client.Config{Addr: addr, SystemID: "crash", Window: 50, NoReconnect: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	acked := map[string]bool{}
	enough := make(chan struct{})
	var once sync.Once
	go func() {
		for i := 0; ; i++ {
			m := &client.Message{Dest: client.Address{TON: 1, NPI: 1, Addr: fmt.Sprintf("9990004%02d", i%50)}, ShortMessage: []byte(fmt.Sprint("m", i))}
			err := cl.SubmitAsync(ctx, m, func(id string, err error) {
				if err != nil {
					return
				}
				mu.Lock()
				acked[id] = true
				if len(acked) >= 1000 {
					once.Do(func() { close(enough) })
				}
				mu.Unlock()
			})
			if err != nil {
				return
			}
		}
	}()
	<-enough
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	cl.Close(ctx)
	mu.Lock()
	ackedIDs := make([]string, 0, len(acked))
	for id := range acked {
		ackedIDs = append(ackedIDs, id)
	}
	mu.Unlock()

	cmd, sc = child("drain")
	drained := false
	for sc.Scan() {
		drained = drained || sc.Text() == "drained"
	}
	if err := cmd.Wait(); err != nil || !drained {
		t.Fatalf("drain child: %v (drained %v)", err, drained)
	}

	st, err := store.Open(dir+"/db", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b, err := os.ReadFile(phoneLog)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, id := range strings.Fields(string(b)) {
		got[id]++
		if got[id] > 1 {
			t.Fatalf("message %s reached the phone twice", id)
		}
	}
	states := map[smsc.State]int{}
	for _, id := range ackedIDs {
		m, err := st.Get(ctx, id)
		if err != nil {
			t.Fatalf("acknowledged message %s lost: %v", id, err)
		}
		if !m.State.Final() && m.State != smsc.Unknown {
			t.Fatalf("acknowledged message %s left in state %v", id, m.State)
		}
		if m.State == smsc.Delivered && got[id] != 1 {
			t.Fatalf("message %s is DELIVERED but the phone never got it", id)
		}
		states[m.State]++
	}
	t.Logf("%d acknowledged before the kill; after restart: %v; phone got %d distinct", len(ackedIDs), states, len(got))
}
