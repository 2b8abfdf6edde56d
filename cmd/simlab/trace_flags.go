package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/simulator/trace"
)

// traceFlags are --pcap and --gsmtap of the commands that speak SMPP
// (sms send, push, load): their SMPP sessions, recorded for Wireshark
// (docs/lab.md, "Traces").
type traceFlags struct{ pcap, gsmtap string }

func (t *traceFlags) register(c *cobra.Command) {
	fs := c.Flags()
	fs.StringVar(&t.pcap, "pcap", "", "write every SMPP PDU to this pcap file (bind passwords masked; docs/lab.md)")
	fs.StringVar(&t.gsmtap, "gsmtap", "", "send every SMPP PDU live, as VXLAN to port 4789 of this address's host (e.g. 127.0.0.1:4729)")
}

// open returns the recorder the flags ask for (nil for none) and its
// closer; recording failures are reported on stderr.
func (t *traceFlags) open(stderr io.Writer) (*trace.Recorder, func(), error) {
	rec, err := trace.Create(t.pcap, t.gsmtap, func(err error) { fmt.Fprintf(stderr, "simlab: %v\n", err) })
	if err != nil {
		return nil, nil, err
	}
	return rec, func() {
		if err := rec.Close(); err != nil {
			fmt.Fprintf(stderr, "simlab: %v\n", err)
		}
	}, nil
}
