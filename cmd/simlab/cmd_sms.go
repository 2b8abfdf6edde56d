package main

import (
	"context"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/smsc/client"
)

func init() { register(newSMSCmd) }

func newSMSCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "sms",
		Short: "Send SMS through an SMSC over SMPP (simlab's own or a real one)",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	c.AddCommand(newSMSSendCmd(a))
	return c
}

// smsSendResult is the output of `simlab sms send --json`.
type smsSendResult struct {
	IDs      []string          `json:"ids"`
	Parts    int               `json:"parts"`
	DCS      uint8             `json:"dcs"`
	Receipts []*client.Receipt `json:"receipts,omitempty"`
}

type smsSendFlags struct {
	addr, systemID, password, systemType string
	to, source, text, hexData, udh       string
	pid, dcs                             string
	dlr, asJSON, useTLS, insecure        bool
	timeout                              time.Duration
	trace                                traceFlags
}

func newSMSSendCmd(a *app) *cobra.Command {
	var f smsSendFlags
	c := &cobra.Command{
		Use:   "send --to NUMBER (--text TEXT | --hex HEX)",
		Short: "Submit one short message (submit_sm) and print its message id",
		Long: `Binds to an SMSC as a transceiver, submits one message and prints the
message id from submit_sm_resp (one per part for a long message). With --dlr
it asks for a delivery receipt and waits for it, then prints it.

Text that fits the GSM 7-bit alphabet is sent with data_coding 0, anything
else as UCS2 (data_coding 8). Texts longer than one SMS are split into parts
with a concatenation UDH. --hex sends binary user data (data_coding 4 unless
--dcs says otherwise); --udh prefixes a user data header, e.g. 027000 for a
SIM Toolkit command packet with --pid 0x7F --dcs 0xF6.

The password may also come from the SIMLAB_SMPP_PASSWORD environment variable.`,
		Example: `  simlab sms send --to +99901000042 --text "Your code is 123456" --dlr
  simlab sms send --smpp smsc.example:2775 --system-id me --password pw --to +4915112345678 --text "Hi" --json
  simlab sms send --to +99901000042 --source 99955500 --pid 0x7F --dcs 0xF6 --udh 027000 --hex 00120102`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSMSSend(cmd.Context(), a, &f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.addr, "smpp", "127.0.0.1:2775", "SMSC address host:port")
	fl.StringVar(&f.systemID, "system-id", "simlab", "bind system_id")
	fl.StringVar(&f.password, "password", "", "bind password (or $SIMLAB_SMPP_PASSWORD)")
	fl.StringVar(&f.systemType, "system-type", "", "bind system_type")
	fl.StringVar(&f.to, "to", "", "destination number (required)")
	fl.StringVar(&f.source, "source", "SIMLAB", "source address: digits (international, + first allowed) or up to 11 letters and digits")
	deprecatedFlag(a, fl, "from", "source")
	fl.StringVar(&f.text, "text", "", "message text")
	fl.StringVar(&f.hexData, "hex", "", "binary user data in hex")
	fl.StringVar(&f.udh, "udh", "", "user data header in hex, length octet included")
	fl.StringVar(&f.pid, "pid", "0", "protocol_id (decimal or 0x hex)")
	fl.StringVar(&f.dcs, "dcs", "", "data_coding (decimal or 0x hex); chosen from the text by default")
	fl.BoolVar(&f.dlr, "dlr", false, "request a delivery receipt and wait for it")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Second, "how long to wait for the SMSC and the receipt")
	fl.BoolVar(&f.asJSON, "json", false, "print machine-readable JSON")
	fl.BoolVar(&f.useTLS, "tls", false, "connect with TLS")
	fl.BoolVar(&f.insecure, "tls-insecure", false, "with --tls, do not verify the SMSC's certificate (lab use)")
	f.trace.register(c)
	return c
}

// parseByte reads a decimal or 0x-prefixed hex octet.
func parseByte(name, s string) (byte, error) {
	v, err := strconv.ParseUint(s, 0, 8)
	if err != nil {
		return 0, usagef("--%s: want a number 0..255 (decimal or 0x hex), got %q", name, s)
	}
	return byte(v), nil
}

// smsParts builds the submit_sm bodies from the flags.
func smsParts(f *smsSendFlags) ([]client.Part, error) {
	if (f.text == "") == (f.hexData == "") {
		return nil, usagef("give exactly one of --text and --hex")
	}
	h := fnv.New32a()
	io.WriteString(h, f.to+"\x00"+f.text+f.hexData)
	ref := byte(h.Sum32())
	var udh []byte
	if f.udh != "" {
		var err error
		if udh, err = hex.DecodeString(f.udh); err != nil {
			return nil, usagef("--udh: %v", err)
		}
	}
	if f.text != "" {
		parts, err := client.SplitText(f.text, ref)
		if err != nil {
			return nil, usagef("--text: %v", err)
		}
		if f.dcs != "" {
			dcs, err := parseByte("dcs", f.dcs)
			if err != nil {
				return nil, err
			}
			for i := range parts {
				parts[i].DataCoding = dcs
			}
		}
		if udh != nil {
			if len(parts) > 1 {
				return nil, usagef("--udh with a text longer than one SMS: the concatenation UDH would clash; send --hex parts yourself")
			}
			p, err := client.WithUDH(udh, parts[0].ShortMessage, parts[0].DataCoding)
			if err != nil {
				return nil, usagef("--udh: %v", err)
			}
			parts[0] = p
		}
		return parts, nil
	}
	data, err := hex.DecodeString(f.hexData)
	if err != nil {
		return nil, usagef("--hex: %v", err)
	}
	dcs := client.DCSBinary
	if f.dcs != "" {
		if dcs, err = parseByte("dcs", f.dcs); err != nil {
			return nil, err
		}
	}
	if udh != nil {
		p, err := client.WithUDH(udh, data, dcs)
		if err != nil {
			return nil, usagef("--udh: %v", err)
		}
		return []client.Part{p}, nil
	}
	parts, err := client.SplitBinary(data, dcs, ref)
	if err != nil {
		return nil, usagef("--hex: %v", err)
	}
	return parts, nil
}

// smsAddress makes an SMPP address: TON international/ISDN for digits
// (a leading + is dropped), alphanumeric otherwise (SMPP v3.4 §5.2.5).
func smsAddress(s string) client.Address {
	s = strings.TrimPrefix(s, "+")
	for _, c := range s {
		if c < '0' || c > '9' {
			return client.Address{TON: 5, NPI: 0, Addr: s}
		}
	}
	return client.Address{TON: 1, NPI: 1, Addr: s}
}

func runSMSSend(ctx context.Context, a *app, f *smsSendFlags) error {
	if f.to == "" {
		return usagef("--to is required")
	}
	if _, err := numberFlag("to", f.to); err != nil {
		return err
	}
	if err := sourceFlag("source", f.source); err != nil {
		return err
	}
	if err := addrFlag("smpp", f.addr); err != nil {
		return err
	}
	parts, err := smsParts(f)
	if err != nil {
		return err
	}
	pid, err := parseByte("pid", f.pid)
	if err != nil {
		return err
	}
	f.password = smppPassword(f.password)
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	cfg := client.Config{
		Addr: f.addr, SystemID: f.systemID, Password: f.password, SystemType: f.systemType,
		Mode: client.Transceiver, NoReconnect: true, ResponseTimeout: f.timeout,
		Logger: slog.New(slog.DiscardHandler),
	}
	if f.useTLS {
		host, _, err := net.SplitHostPort(f.addr) // "[::1]:2775" too
		if err != nil {
			return usagef("--smpp %q: %v", f.addr, err)
		}
		cfg.TLS = &tls.Config{ServerName: host, InsecureSkipVerify: f.insecure, MinVersion: tls.VersionTLS12}
	}
	rec, closeTrace, err := f.trace.open(a.stderr)
	if err != nil {
		return err
	}
	defer closeTrace()
	if rec != nil {
		cfg.Tracer = rec
	}
	cl, err := client.Dial(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer ccancel()
		cl.Close(cctx)
	}()
	res := smsSendResult{Parts: len(parts), DCS: parts[0].DataCoding}
	for _, p := range parts {
		m := &client.Message{
			Source: smsAddress(f.source), Dest: smsAddress(f.to),
			ESMClass: p.ESMClass, ProtocolID: pid, DataCoding: p.DataCoding, ShortMessage: p.ShortMessage,
		}
		if f.dlr {
			m.RegisteredDelivery = 1
		}
		id, err := cl.Submit(ctx, m)
		if err != nil {
			return err
		}
		res.IDs = append(res.IDs, id)
		if !f.asJSON {
			fmt.Fprintln(a.stdout, id)
		}
	}
	if f.dlr {
		for i, id := range res.IDs {
			wctx := ctx
			if i > 0 {
				// An SMSC configured for one receipt per concatenated
				// message reports only the first part: wait briefly for
				// the others, which come with it when per part.
				var cancel context.CancelFunc
				wctx, cancel = context.WithTimeout(ctx, 2*time.Second)
				defer cancel()
			}
			r, err := cl.AwaitReceipt(wctx, id)
			if err != nil {
				if i > 0 && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
					break
				}
				if errors.Is(err, context.DeadlineExceeded) {
					return fmt.Errorf("no delivery receipt for %s within %v", id, f.timeout)
				}
				return err
			}
			res.Receipts = append(res.Receipts, r)
			if !f.asJSON {
				fmt.Fprintf(a.stdout, "receipt %s stat:%s err:%s done:%s\n", r.ID, r.Stat, r.Err, r.DoneDate.Format(time.RFC3339))
			}
		}
	}
	if f.asJSON {
		return writeJSON(a.stdout, res)
	}
	return nil
}
