package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/simlab-dev/simlab/simulator/atmodem"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/modem"
	"github.com/spf13/cobra"
	"github.com/warthog618/sms"
	"github.com/warthog618/sms/encoding/tpdu"
	"go.bug.st/serial/enumerator"
)

func init() { register(newModemCmd) }

func newModemCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "modem",
		Short: "Drive AT-command modems, or emulate one on a pseudo-terminal",
		Long: `Work with AT-command modems (3GPP TS 27.007 / 27.005): list serial ports,
query a modem, send SMS in PDU mode (text or class 2 OTA), listen for incoming
messages and status reports, or emulate a modem on a pty that gammu and other
tools can open. See docs/lab-modems.md.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	c.AddCommand(newModemListCmd(a), newModemInfoCmd(a), newModemSendCmd(a), newModemListenCmd(a),
		newModemEmulateCmd(a))
	return c
}

// modemPort is one row of `simlab modem list`.
type modemPort struct {
	Port         string `json:"port"`
	USB          bool   `json:"usb"`
	VID          string `json:"vid,omitempty"`
	PID          string `json:"pid,omitempty"`
	Serial       string `json:"serial,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Product      string `json:"product,omitempty"`
}

func newModemListCmd(a *app) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List serial ports with their USB vendor/product ids and serial numbers",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ports, err := enumerator.GetDetailedPortsList()
			if err != nil {
				return fmt.Errorf("modem list: %w", err)
			}
			rows := make([]modemPort, 0, len(ports))
			for _, p := range ports {
				rows = append(rows, modemPort{Port: p.Name, USB: p.IsUSB, VID: strings.ToLower(p.VID),
					PID: strings.ToLower(p.PID), Serial: p.SerialNumber, Manufacturer: p.Manufacturer, Product: p.Product})
			}
			if asJSON {
				return writeJSON(a.stdout, rows)
			}
			if len(rows) == 0 {
				fmt.Fprintln(a.stdout, "no serial ports found")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PORT\tUSB ID\tSERIAL\tPRODUCT")
			for _, r := range rows {
				id := "-"
				if r.USB {
					id = r.VID + ":" + r.PID
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Port, id, dash(r.Serial), dash(strings.TrimSpace(r.Manufacturer+" "+r.Product)))
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// modemFlags are the flags every command that opens a modem shares.
type modemFlags struct {
	port    string
	timeout time.Duration
	verbose bool
}

func (f *modemFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&f.port, "port", "", "serial port of the modem, e.g. /dev/ttyUSB2 (required)")
	c.Flags().DurationVar(&f.timeout, "timeout", 10*time.Second, "time allowed for each AT command")
	c.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "trace the AT dialogue on stderr")
}

func (f *modemFlags) open(ctx context.Context, a *app) (*modem.Modem, error) {
	if f.port == "" {
		return nil, usagef("--port is required")
	}
	opts := modem.Options{Timeout: f.timeout}
	if f.verbose {
		opts.Trace = a.stderr
	}
	return modem.Open(ctx, f.port, opts)
}

func newModemInfoCmd(a *app) *cobra.Command {
	var mf modemFlags
	var asJSON bool
	c := &cobra.Command{
		Use:   "info --port P",
		Short: "Show manufacturer, model, IMEI, IMSI, ICCID, signal, registration, operator and SMSC",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			m, err := mf.open(ctx, a)
			if err != nil {
				return err
			}
			defer m.Close()
			info, err := m.Info(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, info)
			}
			printInfo(a.stdout, info)
			return nil
		},
	}
	mf.add(c)
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func printInfo(w io.Writer, info *modem.Info) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("manufacturer", info.Manufacturer)
	row("model", info.Model)
	row("revision", info.Revision)
	row("IMEI", info.IMEI)
	row("IMSI", info.IMSI)
	row("ICCID", info.ICCID)
	row("SIM", info.SIM)
	if s := info.Signal; s != nil {
		if s.RSSI == 99 {
			row("signal", "unknown (rssi 99)")
		} else {
			row("signal", fmt.Sprintf("%d dBm (rssi %d, ber %d)", s.DBM, s.RSSI, s.BER))
		}
	}
	for _, r := range info.Registrations {
		row(strings.TrimPrefix(r.Command, "+"), fmt.Sprintf("%s (stat %d)", r.State, r.Stat))
	}
	if op := info.Operator; op != nil {
		row("operator", op.Name)
	}
	row("SMSC", info.SMSC)
	for k, v := range info.Errors {
		row("error "+k, v)
	}
	tw.Flush()
}

// sendResult is the JSON output of `simlab modem send`.
type sendResult struct {
	To         string `json:"to"`
	References []int  `json:"references"`
}

func newModemSendCmd(a *app) *cobra.Command {
	var mf modemFlags
	var to, text, ota string
	var ucs2, report, asJSON bool
	c := &cobra.Command{
		Use:   "send --port P --to N (--text T | --ota HEX)",
		Short: "Send an SMS in PDU mode: text (GSM 7-bit or UCS2, concatenated when long) or a class 2 OTA packet",
		Long: `Send an SMS through the modem in PDU mode (AT+CMGS, TS 27.005 §4.3).

--text sends text: GSM 7-bit when every character is in the default alphabet,
UCS2 otherwise (or with --ucs2), split into concatenated segments when long.
--ota sends a secured command packet (TS 102 225) given in hex as a SIM data
download message: PID 7F, DCS F6 (8-bit, class 2), user data header 027000.
It prints the message reference of each segment.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to == "" {
				return usagef("--to is required")
			}
			if _, err := numberFlag("to", to); err != nil {
				return err
			}
			if (text == "") == (ota == "") {
				return usagef("give exactly one of --text and --ota")
			}
			var packet []byte
			if ota != "" {
				var err error
				if packet, err = hex.DecodeString(strings.ReplaceAll(ota, " ", "")); err != nil {
					return usagef("--ota: %v", err)
				}
			}
			ctx := cmd.Context()
			m, err := mf.open(ctx, a)
			if err != nil {
				return err
			}
			defer m.Close()
			opts := modem.SendOptions{StatusReport: report, UCS2: ucs2}
			var mrs []int
			if packet != nil {
				mrs, err = m.SendOTA(ctx, to, packet, opts)
			} else {
				mrs, err = m.SendText(ctx, to, text, opts)
			}
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, sendResult{To: to, References: mrs})
			}
			fmt.Fprintf(a.stdout, "sent to %s in %d segment(s), message reference(s) %s\n", to, len(mrs),
				strings.Trim(fmt.Sprint(mrs), "[]"))
			return nil
		},
	}
	mf.add(c)
	c.Flags().StringVar(&to, "to", "", "destination number, +international or national (required)")
	c.Flags().StringVar(&text, "text", "", "text to send")
	c.Flags().StringVar(&ota, "ota", "", "secured command packet in hex, sent as class 2 SIM data download")
	c.Flags().BoolVar(&ucs2, "ucs2", false, "send text in UCS2 even if it fits GSM 7-bit")
	c.Flags().BoolVar(&report, "report", false, "request a status report (TP-SRR); watch for it with listen")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func newModemListenCmd(a *app) *cobra.Command {
	var mf modemFlags
	var store, asJSON bool
	c := &cobra.Command{
		Use:   "listen --port P",
		Short: "Print incoming messages and status reports (+CMT, +CMTI, +CDS) until interrupted",
		Long: `Listen sets AT+CNMI so that the modem passes new messages (+CMT, or +CMTI
with --store, then read with +CMGR and deleted) and status reports (+CDS) to
simlab, and prints each as it arrives, concatenated messages reassembled.
With --json it prints one JSON object per line. Stop it with Ctrl-C.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			m, err := mf.open(ctx, a)
			if err != nil {
				return err
			}
			defer m.Close()
			ready := func() {
				if !asJSON {
					fmt.Fprintf(a.stderr, "listening on %s; Ctrl-C to stop\n", mf.port)
				}
			}
			return m.Listen(ctx, modem.ListenOptions{Store: store, Ready: ready}, func(e modem.Event) {
				if asJSON {
					writeJSONLine(a.stdout, e)
					return
				}
				printEvent(a.stdout, e)
			})
		},
	}
	mf.add(c)
	c.Flags().BoolVar(&store, "store", false, "let the modem store messages and announce them with +CMTI")
	c.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per event")
	return c
}

// writeJSONLine writes v as one line of JSON (JSON Lines: the encoder
// without indentation).
func writeJSONLine(w io.Writer, v any) {
	_ = json.NewEncoder(w).Encode(v)
}

func printEvent(w io.Writer, e modem.Event) {
	ts := e.Time.Format(time.RFC3339)
	switch e.Kind {
	case modem.KindStatusReport:
		st := "?"
		if e.Status != nil {
			st = fmt.Sprintf("%#02x", *e.Status)
		}
		verdict := "not delivered"
		if e.Delivered() {
			verdict = "delivered"
		}
		fmt.Fprintf(w, "%s status report: mr %d to %s %s (TP-ST %s)\n", ts, e.MR, e.Recipient, verdict, st)
	case modem.KindError:
		fmt.Fprintf(w, "%s error: %s\n", ts, e.Err)
	default:
		body := fmt.Sprintf("%q", e.Text)
		if e.Data != nil {
			body = fmt.Sprintf("data %X", e.Data)
		}
		fmt.Fprintf(w, "%s %s from %s (PID %02X DCS %02X, %d segment(s)): %s\n", ts, e.Kind, e.From, e.PID, e.DCS,
			e.Segments, body)
	}
}

func newModemEmulateCmd(a *app) *cobra.Command {
	var cfg atmodem.Config
	var link, smppAddr, systemID, password, cardProfile, cardPIN string
	var verbose, withCard bool
	c := &cobra.Command{
		Use:   "emulate --link PATH",
		Short: "Emulate an AT modem on a pseudo-terminal linked at PATH",
		Long: `Emulate creates a pseudo-terminal, links it at PATH and serves an emulated
AT modem on it (identity, SMS in PDU and text mode, message storage, +CNMI
routing, +CSQ, +CREG, +COPS, +CPIN, +CSCA, +CSIM, +CRSM, USAT) until interrupted; the
link is removed on exit. gammu, the simlab modem commands and other tools open
PATH like a serial port.

Without --smpp, messages sent through the modem are printed on stderr. With
--smpp the modem binds to that SMSC as a transceiver: what it sends becomes
submit_sm, and what the SMSC delivers to --msisdn arrives as +CMT/+CMTI, status
reports as +CDS. The password may also come from SIMLAB_SMPP_PASSWORD.

With --card (or --card-profile FILE) the modem holds the emulated UICC with
the authenticator applet, as "simlab card emulate" serves it: AT+CSIM and
AT+CRSM reach it, +CCID and +CIMI come from it, +CPIN? reports its PIN1
state (SIM PIN until AT+CPIN=<pin>), AT+CUSATA=1 activates the SIM toolkit
towards the terminal (+CUSATP,
+CUSATT, +CUSATE), and class 2 messages with PID 7F go to the card in
ENVELOPE(SMS-PP download) instead of the message store.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if link == "" {
				return usagef("--link is required")
			}
			password = smppPassword(password)
			ctx := cmd.Context()
			var logMu sync.Mutex
			logf := func(format string, args ...any) {
				logMu.Lock()
				defer logMu.Unlock()
				fmt.Fprintf(a.stderr, format+"\n", args...)
			}
			if smppAddr != "" {
				if cfg.MSISDN == "" {
					return usagef("--smpp needs --msisdn: the SMSC routes by it")
				}
				if _, err := numberFlag("msisdn", cfg.MSISDN); err != nil {
					return err
				}
				if err := addrFlag("smpp", smppAddr); err != nil {
					return err
				}
				b := &atmodem.SMPPBackend{Addr: smppAddr, SystemID: systemID, Password: password, MSISDN: cfg.MSISDN,
					Log: logf}
				if err := b.Start(ctx); err != nil {
					return err
				}
				defer b.Close()
				cfg.Backend = b
			} else {
				mb := atmodem.NewMemoryBackend()
				mb.StatusReports = true
				mb.OnSubmit = func(tp []byte) error {
					logf("submitted: %s", describeSubmit(tp))
					return nil
				}
				cfg.Backend = mb
			}
			if verbose {
				cfg.Log = logf
			}
			if withCard || cardProfile != "" {
				card, closer, err := emulatedCard(ctx, cardProfile, cardPIN)
				if err != nil {
					return fmt.Errorf("modem emulate: card: %w", err)
				}
				defer closer.Close()
				cfg.Card = card
			}
			m, err := atmodem.New(cfg)
			if err != nil {
				return err
			}
			return atmodem.Emulate(ctx, m, link, func(p *atmodem.PTY) {
				fmt.Fprintf(a.stdout, "emulated modem on %s (linked at %s); Ctrl-C to stop\n", p.Path, p.Link)
			})
		},
	}
	f := c.Flags()
	f.StringVar(&link, "link", "", "path of the symbolic link to the pty, e.g. /tmp/ttySIM0 (required)")
	f.StringVar(&cfg.MSISDN, "msisdn", "", "the modem's subscriber number (+CNUM; the SMSC routes to it)")
	f.StringVar(&cfg.IMEI, "imei", "", "IMEI reported by +CGSN (default 359881030000008)")
	f.StringVar(&cfg.IMSI, "imsi", "", "IMSI reported by +CIMI without --card (default 999990000000001)")
	f.StringVar(&cfg.ICCID, "iccid", "", "ICCID reported by +CCID without --card (default 8999900000000000018)")
	f.StringVar(&cfg.SMSC, "smsc", "", "service centre address reported by +CSCA (default +999000)")
	f.StringVar(&smppAddr, "smpp", "", "bind to this SMSC (host:port) as a transceiver")
	f.StringVar(&systemID, "system-id", "simlab", "SMPP system_id for --smpp")
	f.StringVar(&password, "password", "", "SMPP password for --smpp (or SIMLAB_SMPP_PASSWORD)")
	f.BoolVar(&withCard, "card", false, "put the default fleet's emulated UICC (with the authenticator applet) in the modem")
	f.StringVar(&cardProfile, "card-profile", "", "put the emulated UICC of this card profile YAML in the modem (implies --card)")
	f.StringVar(&cardPIN, "card-pin", fleet.DefaultPIN, "the authenticator applet's PIN (5 digits) for --card")
	f.BoolVarP(&verbose, "verbose", "v", false, "log every command line and unsolicited result on stderr")
	return c
}

// describeSubmit summarises an SMS-SUBMIT TPDU for the emulator's log.
func describeSubmit(tp []byte) string {
	var t tpdu.TPDU
	t.Direction = tpdu.MO
	if err := t.UnmarshalBinary(tp); err != nil {
		return fmt.Sprintf("%X (%v)", tp, err)
	}
	body := ""
	if a, err := t.DCS.Alphabet(); err == nil && a == tpdu.Alpha8Bit {
		body = fmt.Sprintf("data %X", t.UD)
	} else if txt, err := sms.Decode([]*tpdu.TPDU{&t}); err == nil {
		body = fmt.Sprintf("%q", txt)
	} else {
		body = err.Error()
	}
	return fmt.Sprintf("to %s PID %02X DCS %02X: %s", t.DA.Number(), t.PID, byte(t.DCS), body)
}
