package smsc_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/simlab-dev/simlab/internal/testlog"
	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// FuzzSession feeds arbitrary bytes to a bound session (the server's PDU
// reader and every handler behind it). Properties: no handler panics
// (logged as "handler panic"), every PDU the server writes is well formed
// and known, and the server shuts down cleanly afterwards.
func FuzzSession(f *testing.F) {
	f.Add(pdu.Append(nil, pdu.CmdSubmitSM, 0, 2, textSM("99900000001", "hello")))
	f.Add(pdu.Append(nil, pdu.CmdQuerySM, 0, 3, &pdu.QuerySM{MessageID: []byte("1")}))
	f.Add(pdu.Append(nil, pdu.CmdDataSM, 0, 4, &pdu.DataSM{Dest: pdu.Addr{Addr: []byte("1")},
		TLVs: pdu.TLVs{{Tag: pdu.TagMessagePayload, Value: []byte("payload")}}}))
	f.Add(pdu.Append(nil, pdu.CmdSubmitMulti, 0, 5, &pdu.SubmitMulti{Dests: []pdu.MultiDest{{Flag: 1, Addr: pdu.Addr{Addr: []byte("1")}}}}))
	f.Add(pdu.Append(nil, pdu.CommandID(0x99), 0, 6, nil))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Add([]byte{0, 0, 0, 0x14, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var logs testlog.Buffer
		srv := &smsc.Server{Logger: slog.New(slog.NewTextHandler(&logs, nil))}
		c, s := net.Pipe()
		srv.ServeConn(s)
		e := newESME(t, c)
		e.bind(pdu.CmdBindTransceiver, "fuzz", "pw", pdu.StatusOK)
		done := make(chan string, 1)
		go func() {
			for {
				h, _, err := e.tryRead()
				if err != nil {
					if !strings.Contains(err.Error(), "closed") && !strings.Contains(err.Error(), "EOF") {
						done <- "bad output: " + err.Error()
						return
					}
					done <- ""
					return
				}
				if !h.ID.Known() || int(h.Length) < pdu.HeaderLen {
					done <- "unknown PDU written: " + h.ID.String()
					return
				}
			}
		}()
		c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		c.Write(data)
		c.Close()
		if msg := <-done; msg != "" {
			t.Fatal(msg)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Fatalf("shutdown: %v", err)
		}
		if strings.Contains(logs.String(), "handler panic") {
			t.Fatalf("panic on % x:\n%s", data, logs.String())
		}
	})
}
