package trace_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/simlab-dev/simlab/simulator/trace"
)

// ExampleRecorder records one APDU exchange and one SMPP enquire_link into
// a pcap file held in memory.
func ExampleRecorder() {
	var pcap bytes.Buffer
	clock := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	rec, err := trace.New(trace.Options{PCAP: &pcap, Now: clock})
	if err != nil {
		fmt.Println(err)
		return
	}
	// SELECT MF answered 61xx (T=0 style).
	rec.APDU(time.Time{}, []byte{0x00, 0xA4, 0x00, 0x04, 0x02, 0x3F, 0x00}, []byte{0x61, 0x20})
	// enquire_link, sequence number 1 (SMPP v3.4 §4.11.1).
	rec.SMPP(time.Time{}, trace.ToSMSC, []byte{0, 0, 0, 16, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1})
	// 24-byte pcap header; the APDU: 16-byte record header + 20 IPv4 +
	// 8 UDP + 16 GSMTAP + 9; the SMPP PDU: SYN, SYN-ACK, ACK, then the data
	// segment, each 16 + 20 IPv4 + 20 TCP (+ 16 for the PDU).
	fmt.Println(pcap.Len())
	// Output:
	// 333
}
