package smsc_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"

	"github.com/simlab-dev/simlab/smsc"
	"github.com/simlab-dev/simlab/smsc/pdu"
)

// Example serves an open loopback SMSC, binds as a transmitter with the
// pdu codec, submits a text and reads it back from the store.
func Example() {
	store := smsc.NewMemStore(0)
	srv := &smsc.Server{Store: store}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(l)
	defer srv.Shutdown(context.Background())

	c, _ := net.Dial("tcp", l.Addr().String())
	defer c.Close()
	r := bufio.NewReader(c)
	call := func(id pdu.CommandID, seq uint32, body pdu.Body) (pdu.Header, []byte) {
		c.Write(pdu.Append(nil, id, 0, seq, body))
		hb := make([]byte, pdu.HeaderLen)
		io.ReadFull(r, hb)
		h, _ := pdu.DecodeHeader(hb)
		b := make([]byte, h.Length-pdu.HeaderLen)
		io.ReadFull(r, b)
		return h, b
	}
	h, _ := call(pdu.CmdBindTransmitter, 1, &pdu.Bind{SystemID: []byte("example"), Password: []byte("any")})
	fmt.Println(h.ID, h.Status)
	h, b := call(pdu.CmdSubmitSM, 2, &pdu.SubmitSM{
		Source: pdu.Addr{TON: 5, Addr: []byte("SimLab")}, Dest: pdu.Addr{TON: 1, NPI: 1, Addr: []byte("99900000001")},
		ShortMessage: []byte("Your code is 123456")})
	var resp pdu.MessageIDResp
	resp.Unmarshal(b)
	fmt.Println(h.ID, h.Status)

	m, _ := store.Get(context.Background(), string(resp.MessageID))
	text, _ := m.Text()
	fmt.Println(m.Dest.Addr, m.State, text, m.Namespace)
	// Output:
	// bind_transmitter_resp ESME_ROK
	// submit_sm_resp ESME_ROK
	// 99900000001 DELIVERED Your code is 123456 example
}
