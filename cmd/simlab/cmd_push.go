package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/push"
	"github.com/simlab-dev/simlab/smsc/client"
)

func init() { register(newPushCmd) }

// pushOptions are the flags of `simlab push`.
type pushOptions struct {
	smpp, systemID, password  string
	source, addressRange      string
	to, loa                   string
	clientName, binding, ctxt string
	timeout                   time.Duration
	upk, tdes, jsonOut        bool
	url                       bool
	urlBase, urlListen        string
	otp                       bool
	otpLength                 int
	api                       string
	fleet                     string
	trace                     traceFlags
}

// pushOutput is what `simlab push --json` prints: the push package's
// Result and the mode that made it.
type pushOutput struct {
	// Mode is applet (SIM Toolkit challenge), url (SMS+URL) or otp.
	Mode string `json:"mode"`
	push.Result
}

func newPushCmd(a *app) *cobra.Command {
	var o pushOptions
	c := &cobra.Command{
		Use:   "push --to MSISDN --loa 2|3|3,2",
		Short: "Push a login challenge to a phone over SMPP and print the outcome (a push server in a box)",
		Long: `push plays the operator's push server of a Mobile Connect SIM authenticator:
it builds a challenge (docs/applet-protocol.md), seals it with the card's OTA
keys (derived from simlab's demo master keys, fixtures/keys, and the card's
ICCID: AES keyset 1, or 3DES keyset 2 with --tdes), submits it over SMPP as
a class-2 SIM data download, waits for the phone's answer, opens and
verifies it (CC, transaction id, the card's signature) and prints the
outcome.

The ICCID behind a number comes from the embedded plan (docs/numbers.md).
Against a server running a fleet file give --fleet: the same FILE, or the
server's HTTP API (--fleet http://127.0.0.1:8775) to read its plan from
GET /api/v1/numbers.

Outcomes: approved, cancelled, timeout, wrong_pin, pin_blocked,
pin_not_supported, not_delivered, sim_error, busy. acr is "2" or "3" when
approved, null otherwise.

Two plain-SMS modes (LoA2 only):
  --url   sends "<client-name>: <binding-message> <URL>"; the URL points at a
          one-shot HTTP listener on 127.0.0.1 (--url-listen; --url-base is the
          prefix put in the SMS when the phone reaches it by another address).
          Opened → approved, acr "2"; not opened within --timeout → timeout.
  --otp   sends "Your <client-name> code is NNNNNN", waits for the delivery
          receipt, and reads the code back through the capture API (--api):
          the same code → approved, acr "2".

Exit codes: 0 when the push completed, whatever the outcome (read "outcome");
1 when it could not be pushed (SMSC unreachable, bind refused — the error
says what the account lacks —, number not in the plan, capture API
unreachable) or the SMSC closed the connection while it waited ("the SMSC
closed the connection"); 2 for a usage error.

While it waits, push shows it on stderr: a spinner with the time left on a
terminal, else a line every 5 seconds at most.

Answers come back as MO SMS to --source. simlab's SMSC hands each answer to
the bind that sent its challenge (docs/smsc.md, "Routing"), so any number of
pushes, loads and other clients may run at once with the default flags. The
bind also claims --source by address_range (SMPP 3.4 §5.2.7) for SMSCs that
route by it; simlab honours it only while the bind lives.

The bind password may also come from $SIMLAB_SMPP_PASSWORD, the HTTP API's
token (--otp, --fleet URL) from $` + apiTokenEnv + `.`,
		Example: `  simlab push --to +99900000001 --loa 3 --client-name "Example Bank" --binding-message "Login 4F2A"
  simlab push --to +99900060001 --loa 3,2 --json
  simlab push --to +447700900042 --loa 3 --fleet http://127.0.0.1:8775
  simlab push --to +99901000042 --loa 2 --url --timeout 30s
  simlab push --to +99901000042 --otp --api http://127.0.0.1:8775`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error { return runPush(cmd.Context(), a, cmd, &o) },
	}
	f := c.Flags()
	f.StringVar(&o.smpp, "smpp", "127.0.0.1:2775", "SMSC address host:port")
	f.StringVar(&o.systemID, "system-id", "simlab-push", "bind system_id")
	f.StringVar(&o.password, "password", "", "bind password (or $SIMLAB_SMPP_PASSWORD)")
	f.StringVar(&o.source, "source", "99955500", "the address challenges come from and answers go to")
	f.StringVar(&o.addressRange, "address-range", "", `bind address_range claiming the answers (default: --source; "-" sends none)`)
	f.StringVar(&o.to, "to", "", "the phone's MSISDN (required)")
	f.StringVar(&o.loa, "loa", "", `level of assurance: 2 (OK), 3 (PIN) or "3,2" (PIN, OK when the SIM has no PIN)`)
	f.StringVar(&o.clientName, "client-name", "simlab", "the service shown to the user")
	f.StringVar(&o.binding, "binding-message", "", "the binding message shown to the user")
	f.StringVar(&o.ctxt, "context", "", "the context shown to the user")
	f.DurationVar(&o.timeout, "timeout", 60*time.Second, "prompt timeout sent to the card (and the SMS validity); the answer is awaited 10s longer")
	f.BoolVar(&o.upk, "upk", false, "ask the card for its public key (upk)")
	f.BoolVar(&o.tdes, "tdes", false, "seal with the 3DES keyset (key index 2) instead of AES (1)")
	deprecatedFlag(a, f, "3des", "tdes") // card push's name, and no leading digit
	f.BoolVar(&o.jsonOut, "json", false, "print the result as JSON")
	f.BoolVar(&o.url, "url", false, "SMS+URL mode: send a login link by SMS (LoA2)")
	f.StringVar(&o.urlBase, "url-base", "", "URL prefix put in the SMS (default http://<listener address>)")
	f.StringVar(&o.urlListen, "url-listen", "127.0.0.1:0", "address of the one-shot link listener")
	f.BoolVar(&o.otp, "otp", false, "OTP mode: send a code by SMS and read it back through the capture API")
	f.IntVar(&o.otpLength, "otp-length", 6, "digits of the OTP (4..10)")
	f.StringVar(&o.api, "api", defaultAPI, "base URL of simlab's HTTP API (capture API, for --otp)")
	f.StringVar(&o.fleet, "fleet", "", "the plan the server runs, for the cards' keys: a fleet FILE or the server's HTTP base URL (default: the embedded plan)")
	o.trace.register(c)
	return c
}

func runPush(ctx context.Context, a *app, cmd *cobra.Command, o *pushOptions) error {
	if o.to == "" {
		return usagef("--to is required")
	}
	if o.url && o.otp {
		return usagef("--url and --otp exclude each other")
	}
	if o.timeout <= 0 {
		return usagef("--timeout must be positive")
	}
	var loa authn.LoA
	switch {
	case o.otp || o.url:
		if o.loa != "" && o.loa != "2" {
			return usagef("--url and --otp give LoA2 only (got --loa %s)", o.loa)
		}
		if o.upk || o.tdes || o.ctxt != "" {
			return usagef("--upk, --tdes and --context apply to SIM challenges only")
		}
		if o.otp && (o.otpLength < 4 || o.otpLength > 10) {
			return usagef("--otp-length: want 4..10 digits")
		}
		if o.otp && cmd.Flags().Changed("binding-message") {
			return usagef("--binding-message does not apply to --otp")
		}
	case o.loa == "":
		return usagef("--loa is required (2, 3 or 3,2)")
	default:
		var err error
		if loa, err = authn.ParseLoA(o.loa); err != nil {
			return usagef("--loa: %v", err)
		}
	}
	if (cmd.Flags().Changed("url-base") || cmd.Flags().Changed("url-listen")) && !o.url {
		return usagef("--url-base and --url-listen need --url")
	}
	if cmd.Flags().Changed("api") && !o.otp {
		return usagef("--api applies to --otp only")
	}
	if o.fleet != "" && (o.otp || o.url) {
		return usagef("--fleet applies to SIM challenges only")
	}
	to, err := numberFlag("to", o.to)
	if err != nil {
		return err
	}
	if err := addrFlag("smpp", o.smpp); err != nil {
		return err
	}
	if err := sourceFlag("source", o.source); err != nil {
		return err
	}
	if !o.otp && !o.url {
		r := push.Request{MSISDN: o.to, LoA: loa, ClientName: o.clientName, BindingMessage: o.binding, Context: o.ctxt}
		if err := r.Check(); err != nil {
			return usageError{err}
		}
	}
	o.password = smppPassword(o.password)

	ar := o.addressRange
	switch ar {
	case "":
		ar = o.source
	case "-":
		ar = ""
	}
	var plan *fleet.Directory
	if o.fleet != "" {
		if plan, err = push.OpenFleet(ctx, o.fleet, os.Getenv(apiTokenEnv)); err != nil {
			return err
		}
	}
	rec, closeTrace, err := o.trace.open(a.stderr)
	if err != nil {
		return err
	}
	defer closeTrace()
	smpp := client.Config{Addr: o.smpp, SystemID: o.systemID, Password: o.password, AddressRange: ar, NoReconnect: true}
	if rec != nil {
		smpp.Tracer = rec
	}
	p, err := push.New(ctx, push.Config{
		SMPP:   smpp,
		Source: o.source,
		TDES:   o.tdes,
		Fleet:  plan,
	})
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = p.Close(cctx)
	}()

	out := pushOutput{Mode: "applet"}
	what, limit := "waiting for the answer of +"+to, o.timeout+10*time.Second
	switch {
	case o.url:
		what, limit = "waiting for the link to be opened on +"+to, o.timeout
	case o.otp:
		what, limit = "waiting for the code to reach +"+to, o.timeout
	}
	stop := newWaiting(a.stderr, what, limit).start()
	switch {
	case o.url:
		out.Mode = "url"
		out.Result, err = p.PushURL(ctx, push.URLRequest{MSISDN: o.to, ClientName: o.clientName, BindingMessage: o.binding,
			Timeout: o.timeout, Listen: o.urlListen, Base: o.urlBase})
	case o.otp:
		out.Mode = "otp"
		out.Result, err = p.PushOTP(ctx, push.OTPRequest{MSISDN: o.to, ClientName: o.clientName, Length: o.otpLength,
			Timeout: o.timeout, API: o.api, Token: os.Getenv(apiTokenEnv)})
	default:
		out.Result, err = p.Push(ctx, push.Request{MSISDN: o.to, LoA: loa, ClientName: o.clientName, BindingMessage: o.binding,
			Context: o.ctxt, Timeout: o.timeout, WantUPK: o.upk})
	}
	stop()
	if err != nil {
		return notInPlanHint(err, o.fleet)
	}
	if o.jsonOut {
		return writeJSON(a.stdout, out)
	}
	return printPushResult(a.stdout, out, paletteFor(a.stdout))
}

// printPushResult writes the result as aligned "key  value" lines.
func printPushResult(w io.Writer, out pushOutput, pal palette) error {
	r := out.Result
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("outcome", pal.outcome(r.Outcome))
	acr := "-"
	if r.ACR != nil {
		acr = *r.ACR
	}
	row("acr", acr)
	row("msisdn", "+"+r.MSISDN)
	row("mode", out.Mode)
	row("transaction id", r.TransactionID)
	if out.Mode == "applet" && r.Outcome != push.TimedOut && r.Outcome != push.NotDelivered && r.Outcome != push.SIMError {
		sig := "not valid"
		if r.SignatureValid {
			sig = "valid"
		}
		row("signature", sig)
	}
	if r.TriesLeft != nil {
		row("pin tries left", fmt.Sprint(*r.TriesLeft))
	}
	if r.MessageID != "" {
		row("message id", r.MessageID)
	}
	if r.Receipt != "" {
		row("receipt", r.Receipt)
	}
	if r.UPK != "" {
		row("upk", r.UPK)
	}
	row("latency", fmt.Sprintf("%.1f ms", r.LatencyMS))
	if r.Detail != "" {
		row("detail", r.Detail)
	}
	return tw.Flush()
}

// notInPlanHint adds to an error about a number outside the plan the keys
// are derived from what to do when the server runs another one.
func notInPlanHint(err error, fleetRef string) error {
	if errors.Is(err, fleet.ErrNotInPlan) && fleetRef == "" {
		return fmt.Errorf("%w (if the server runs a fleet file, give --fleet FILE or --fleet URL of its HTTP API)", err)
	}
	return err
}
