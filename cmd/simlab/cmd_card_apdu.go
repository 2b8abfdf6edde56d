package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/applet"
	"github.com/simlab-dev/simlab/applet/apdu"
	"github.com/simlab-dev/simlab/simulator/pcsc"
	"github.com/simlab-dev/simlab/simulator/trace"
)

func init() { registerCard(newCardAPDUCmd) }

// apduExchange is one command/response pair on the wire.
type apduExchange struct {
	Command  string `json:"command"`
	Name     string `json:"name"`
	Response string `json:"response"`
	SW       string `json:"sw"`
	SWName   string `json:"sw_name"`
}

// apduResult is one APDU given on the command line and what came back,
// GET RESPONSE / resend-with-Le exchanges included.
type apduResult struct {
	Command   string         `json:"command"`
	Name      string         `json:"name"`
	Response  string         `json:"response"`
	SW        string         `json:"sw"`
	SWName    string         `json:"sw_name"`
	Exchanges []apduExchange `json:"exchanges"`
}

// logCard records the exchanges of the wrapped card.
type logCard struct {
	applet.Card
	mu  sync.Mutex
	log []apduExchange
}

func (l *logCard) Transmit(ctx context.Context, c []byte) ([]byte, error) {
	r, err := l.Card.Transmit(ctx, c)
	if err != nil {
		return r, err
	}
	l.mu.Lock()
	l.log = append(l.log, describeExchange(c, r))
	l.mu.Unlock()
	return r, nil
}

func (l *logCard) take() []apduExchange {
	l.mu.Lock()
	defer l.mu.Unlock()
	x := l.log
	l.log = nil
	return x
}

func upperHex(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

func describeExchange(c, r []byte) apduExchange {
	x := apduExchange{Command: upperHex(c), Response: upperHex(r)}
	if cmd, err := apdu.Parse(c); err == nil {
		x.Name = cmd.Name()
	}
	if resp, err := apdu.ParseResponse(r); err == nil {
		x.SW = fmt.Sprintf("%04X", uint16(resp.SW))
		x.SWName = resp.SW.Name()
	}
	return x
}

// parseAPDUArg reads one APDU in hex; spaces, colons and a 0x prefix are
// allowed.
func parseAPDUArg(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	s = strings.NewReplacer(" ", "", ":", "", "\t", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if _, err := apdu.Parse(b); err != nil {
		return nil, err
	}
	return b, nil
}

func newCardAPDUCmd(a *app) *cobra.Command {
	var (
		reader, pcapPath, gsmtap string
		asJSON, raw              bool
	)
	c := &cobra.Command{
		Use:   "apdu --reader READER HEX...",
		Short: "Send command APDUs to the card in a PC/SC reader and show the decoded exchange",
		Long: `Send each command APDU (hex; spaces allowed inside one quoted argument) to
the card in READER and print every exchange with the instruction and
status-word names. T=0 answers are completed: 61xx is followed by GET
RESPONSE and 6Cxx by the command again with the right Le (--raw turns this
off). --pcap writes the exchanges as GSMTAP SIM frames for Wireshark,
--gsmtap sends them live (e.g. to 127.0.0.1:4729).

Needs pcscd running and a simlab built with cgo (PC/SC support).`,
		Example: `  simlab card apdu --reader "Virtual PCD 00 00" 00A40004023F00
  simlab card apdu --reader "Virtual PCD 00 00" --json "80 10 00 00 04 7F E1 E1 0E"`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("give at least one command APDU in hex")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if reader == "" {
				return usagef("--reader is required (see `simlab card list`)")
			}
			cmds := make([][]byte, len(args))
			for i, s := range args {
				b, err := parseAPDUArg(s)
				if err != nil {
					return usagef("APDU %d (%q): %v", i+1, s, err)
				}
				cmds[i] = b
			}
			ctx := cmd.Context()
			card, err := pcsc.Open(ctx, reader)
			if err != nil {
				return err
			}
			defer card.Close()
			base, stopTrace, err := tracedCard(card, pcapPath, gsmtap, a.stderr)
			if err != nil {
				return err
			}
			defer stopTrace()
			lc := &logCard{Card: base}
			var results []apduResult
			for _, c := range cmds {
				var r []byte
				if raw {
					r, err = lc.Transmit(ctx, c)
				} else {
					var x apdu.Response
					x, err = apdu.Exchange(ctx, lc, c)
					r = x.Append(nil)
				}
				if err != nil {
					return err
				}
				x := describeExchange(c, r)
				results = append(results, apduResult{Command: x.Command, Name: x.Name, Response: x.Response, SW: x.SW, SWName: x.SWName, Exchanges: lc.take()})
			}
			if asJSON {
				return writeJSON(a.stdout, map[string]any{"reader": reader, "atr": upperHex(card.ATR()), "protocol": card.Protocol(), "apdus": results})
			}
			fmt.Fprintf(a.stdout, "reader %s, %s, ATR %s\n", reader, card.Protocol(), upperHex(card.ATR()))
			for _, res := range results {
				for _, x := range res.Exchanges {
					fmt.Fprintf(a.stdout, "> %s  %s\n", spaced(x.Command), x.Name)
					fmt.Fprintf(a.stdout, "< %s  %s\n", spaced(x.Response), x.SWName)
				}
			}
			return nil
		},
	}
	c.Flags().StringVar(&reader, "reader", "", "PC/SC reader name (see `simlab card list`)")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&raw, "raw", false, "do not follow 61xx with GET RESPONSE nor 6Cxx with a resend")
	c.Flags().StringVar(&pcapPath, "pcap", "", "write the exchanges to this pcap file (GSMTAP SIM)")
	c.Flags().StringVar(&gsmtap, "gsmtap", "", "send the exchanges live as GSMTAP to this UDP address, e.g. 127.0.0.1:4729")
	return c
}

// spaced writes hex as byte pairs separated by spaces.
func spaced(h string) string {
	var sb strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(h[i:min(i+2, len(h))])
	}
	return sb.String()
}

// tracedCard returns card recording its APDUs to a pcap file at pcapPath
// and/or as live GSMTAP to gsmtap (host:port), or card itself when both are
// empty; stop closes the recorder and the file. Trace errors are reported
// on stderr without stopping the card.
func tracedCard(card applet.Card, pcapPath, gsmtap string, stderr io.Writer) (traced applet.Card, stop func(), err error) {
	if pcapPath == "" && gsmtap == "" {
		return card, func() {}, nil
	}
	opts := trace.Options{Live: gsmtap}
	var f *os.File
	if pcapPath != "" {
		if f, err = os.Create(pcapPath); err != nil {
			return nil, nil, err
		}
		opts.PCAP = f
	}
	rec, err := trace.New(opts)
	if err != nil {
		if f != nil {
			f.Close()
		}
		return nil, nil, err
	}
	stop = func() {
		rec.Close()
		if f != nil {
			f.Close()
		}
	}
	return trace.Card{Card: card, Rec: rec, OnError: func(err error) { fmt.Fprintf(stderr, "simlab: trace: %v\n", err) }}, stop, nil
}
