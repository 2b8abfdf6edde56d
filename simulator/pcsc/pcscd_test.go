//go:build linux

package pcsc_test

// Every test that needs pcscd lives in this package (only one pcscd can run
// per host: its socket is /run/pcscd/pcscd.comm). They share one pcscd,
// started on first use with a private reader.conf.d whose vpcd reader
// listens on a free port pair, and stopped by TestMain.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/internal/needs"
)

const pcscdSocket = "/run/pcscd/pcscd.comm"

// vpcdDriver is where Debian's vsmartcard-vpcd installs the reader driver.
const vpcdDriver = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"

var lab struct {
	once   sync.Once
	err    error
	skip   string // why pcscd cannot be used (missing tool, foreign pcscd)
	cmd    *exec.Cmd
	dir    string
	port   int // vpcd slot 00; slot 01 listens on port+1
	logErr func() string
}

func TestMain(m *testing.M) {
	code := m.Run()
	stopPCSCD()
	os.Exit(code)
}

// startPCSCD starts the shared pcscd (once) and returns the TCP port of the
// vpcd reader "Virtual PCD 00 00"; "Virtual PCD 00 01" is on port+1.
func startPCSCD(t testing.TB) int {
	t.Helper()
	needs.Command(t, "pcscd", "pcscd")
	needs.File(t, vpcdDriver, "vsmartcard-vpcd")
	lab.once.Do(func() { lab.err = launchPCSCD() })
	if lab.skip != "" {
		needs.Missing(t, "a host where simlab's tests may run their own pcscd", lab.skip)
	}
	if lab.err != nil {
		t.Fatalf("starting pcscd: %v", lab.err)
	}
	return lab.port
}

func launchPCSCD() error {
	if c, err := net.Dial("unix", pcscdSocket); err == nil {
		c.Close()
		lab.skip = "a pcscd is already running (" + pcscdSocket + "); stop it first (systemctl stop pcscd.socket pcscd)"
		return nil
	}
	port, err := freePortPair()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "simlab-pcscd-")
	if err != nil {
		return err
	}
	conf := filepath.Join(dir, "reader.conf.d")
	if err := os.Mkdir(conf, 0o755); err != nil {
		return err
	}
	// Same shape as Debian's /etc/reader.conf.d/vpcd, on our port.
	cfg := fmt.Sprintf("FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME   /dev/null:0x%04X\nLIBPATH      %s\nCHANNELID    0x%04X\n", port, vpcdDriver, port)
	if err := os.WriteFile(filepath.Join(conf, "vpcd"), []byte(cfg), 0o644); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(dir, "pcscd.log"))
	if err != nil {
		return err
	}
	cmd := exec.Command("pcscd", "--foreground", "--config", conf, "--info")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return err
	}
	lab.cmd, lab.dir, lab.port = cmd, dir, port
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// pcscd is an external process: wait for its socket to accept.
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if c, err := net.Dial("unix", pcscdSocket); err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(logf.Name())
			lab.cmd = nil
			return fmt.Errorf("pcscd exited (%v):\n%s", err, log)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			return errors.New("pcscd did not open " + pcscdSocket + " within 10 s")
		}
	}
}

func stopPCSCD() {
	if lab.cmd != nil && lab.cmd.Process != nil {
		_ = lab.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { lab.cmd.Process.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = lab.cmd.Process.Kill()
		}
	}
	if lab.dir != "" {
		os.RemoveAll(lab.dir)
	}
}

// freePortPair finds p such that p and p+1 are free on 127.0.0.1 (vpcd
// opens one port per slot).
func freePortPair() (int, error) {
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		p := l.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+1))
		l.Close()
		if err == nil {
			l2.Close()
			if p+1 < 0xFFFF {
				return p, nil
			}
		}
	}
	return 0, errors.New("no free port pair")
}

// testContext returns a context ending with the test or after d.
func testContext(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
