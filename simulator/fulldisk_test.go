package simulator

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/smsc/pdu"
)

// tinyDisk mounts a tmpfs of size on a temporary directory (root only:
// skipped otherwise, and under CI=true a failed mount as root fails).
func tinyDisk(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount tmpfs as root: %v", err)
		}
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// fillDisk writes a file in dir until the file system is full.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return p
		}
	}
}

// rawESME is a bound transmitter on raw PDUs, so the test sees every
// command_status as sent (the client package retries RMSGQFUL).
type rawESME struct {
	c   net.Conn
	br  *bufio.Reader
	seq uint32
}

func dialRaw(t *testing.T, addr string) *rawESME {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	e := &rawESME{c: c, br: bufio.NewReader(c)}
	if st := e.call(t, pdu.CmdBindTransmitter, &pdu.Bind{SystemID: []byte("disk"), Password: []byte("x"), InterfaceVersion: 0x34}); st != pdu.StatusOK {
		t.Fatalf("bind: %v", st)
	}
	return e
}

func (e *rawESME) call(t *testing.T, id pdu.CommandID, body pdu.Body) pdu.Status {
	t.Helper()
	e.seq++
	e.c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := e.c.Write(pdu.Append(nil, id, 0, e.seq, body)); err != nil {
		t.Fatal(err)
	}
	var hb [pdu.HeaderLen]byte
	if _, err := io.ReadFull(e.br, hb[:]); err != nil {
		t.Fatal(err)
	}
	h, _ := pdu.DecodeHeader(hb[:])
	if _, err := e.br.Discard(int(h.Length) - pdu.HeaderLen); err != nil {
		t.Fatal(err)
	}
	if h.Seq != e.seq {
		t.Fatalf("response seq %d, want %d", h.Seq, e.seq)
	}
	return h.Status
}

func (e *rawESME) submit(t *testing.T) pdu.Status {
	t.Helper()
	return e.call(t, pdu.CmdSubmitSM, &pdu.SubmitSM{Source: pdu.Addr{TON: 5, Addr: []byte("Disk")},
		Dest: pdu.Addr{TON: 1, NPI: 1, Addr: []byte("4915100000001")}, ShortMessage: []byte(strings.Repeat("full disk ", 14))})
}

func healthz(t *testing.T, addr string) int {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestFullDisk: on a full disk /healthz said ok and submits got
// ESME_RSYSERR where the docs promise ESME_RMSGQFUL. Now submits get
// ESME_RMSGQFUL, /healthz turns 503, and both recover once space is free.
func TestFullDisk(t *testing.T) {
	t.Parallel()
	disk := tinyDisk(t, "8m")
	s := startTest(t, Config{DataDir: filepath.Join(disk, "data")})
	e := dialRaw(t, s.Addrs().SMPP)
	if st := e.submit(t); st != pdu.StatusOK {
		t.Fatalf("submit before the disk fills: %v", st)
	}
	filler := fillDisk(t, disk)
	var st pdu.Status
	for i := 0; i < 10_000 && st == pdu.StatusOK; i++ {
		st = e.submit(t)
	}
	if st != pdu.StatusMsgQFul {
		t.Fatalf("submit on a full disk: %v, want ESME_RMSGQFUL", st)
	}
	if code := healthz(t, s.Addrs().HTTP); code != http.StatusServiceUnavailable {
		t.Errorf("/healthz on a full disk: %d, want 503", code)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	// The store probes the disk every 2 s while unhealthy.
	deadline := time.Now().Add(20 * time.Second)
	for healthz(t, s.Addrs().HTTP) != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("/healthz did not recover after space was freed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st := e.submit(t); st != pdu.StatusOK {
		t.Fatalf("submit after space was freed: %v", st)
	}
}
