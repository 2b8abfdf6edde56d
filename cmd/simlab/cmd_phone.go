package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/apiclient"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/person"
)

func init() { register(newPhoneCmd) }

// defaultAPI is where `simlab serve` listens by default.
const defaultAPI = "http://" + simulator.DefaultHTTPAddr

// apiTokenEnv names the environment variable holding the API bearer token.
const apiTokenEnv = "SIMLAB_API_TOKEN"

func newPhoneCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "phone",
		Short: "Script and inspect emulated phones over the control API",
		Long: `phone talks to a running simlab (simlab serve) over its control API
(/api/v1/phones). --api is the HTTP base URL (default ` + defaultAPI + `);
the bearer token, when the server requires one, comes from $` + apiTokenEnv + `.

  simlab phone set  MSISDN [--next A,…] [--answer A] [--pin DIGITS] ...   (A: simlab phone set --help)
  simlab phone get  MSISDN
  simlab phone list
  simlab phone reset MSISDN
  simlab phone events MSISDN   (the phone's log, --apdus for the APDU traces)
  simlab phone inbox MSISDN    (the text SMS it received)
  simlab phone send MSISDN --to ADDR --text TEXT   (the phone texts an ESME)

Output is a readable table; --json prints the API's JSON.`,
	}
	c.AddCommand(newPhoneSetCmd(a), newPhoneGetCmd(a), newPhoneListCmd(a), newPhoneResetCmd(a), newPhoneEventsCmd(a), newPhoneInboxCmd(a), newPhoneSendCmd(a), newPhoneAttachCmd(a), newPhoneDetachCmd(a))
	return c
}

// apiFlags are the flags every phone subcommand shares.
type apiFlags struct {
	api      string
	jsonOut  bool
	deadline time.Duration
}

func (f *apiFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&f.api, "api", defaultAPI, "base URL of simlab's HTTP API")
	c.Flags().BoolVar(&f.jsonOut, "json", false, "print JSON")
	c.Flags().DurationVar(&f.deadline, "http-timeout", 30*time.Second, "give up on the API after this long")
}

// client returns the API client the flags describe (package
// simulator/apiclient): base URL, token from $SIMLAB_API_TOKEN, timeout.
func (f *apiFlags) client() (*apiclient.Client, error) {
	c, err := apiclient.New(f.api)
	if err != nil {
		return nil, usagef("--api %q: want an http:// or https:// URL", f.api)
	}
	c.Token = os.Getenv(apiTokenEnv)
	c.HTTPClient = &http.Client{Timeout: f.deadline}
	return c, nil
}

// apiFailure says what the API answered, as the CLI prints it: "API
// answered 404 Not Found: …", with a hint when a token is missing.
func apiFailure(err error) error {
	var e *apiclient.Error
	if !errors.As(err, &e) {
		return err
	}
	msg := e.Message
	if e.StatusCode == http.StatusUnauthorized && os.Getenv(apiTokenEnv) == "" {
		msg += " (set $" + apiTokenEnv + ")"
	}
	return fmt.Errorf("API answered %d %s: %s", e.StatusCode, http.StatusText(e.StatusCode), msg)
}

// normalized checks a number before any request, so a typo is a usage
// error, not a 404.
func normalized(msisdn string) (string, error) {
	n, err := fleet.Normalize(msisdn)
	if err != nil {
		return "", usagef("%v", err)
	}
	return n, nil
}

// onPhone checks the number and the flags, then calls the API with the
// client; an API failure is worded by apiFailure.
func (f *apiFlags) onPhone(msisdn string, call func(c *apiclient.Client, n string) error) error {
	n, err := normalized(msisdn)
	if err != nil {
		return err
	}
	cl, err := f.client()
	if err != nil {
		return err
	}
	return apiFailure(call(cl, n))
}

// phoneSetOptions are the flags of `phone set`.
type phoneSetOptions struct {
	answer       string
	next         []string
	pin          string
	noPINSupport bool
	noNFC        bool
	absent       bool
	openURLs     bool
	delay        time.Duration
	jitter       time.Duration
}

// update builds the PUT body from the flags that were given (docs/api.md,
// "Answers"): --answer is the answer to every prompt (the behaviour's
// then), --next the answers to the next prompts, once each (alone: queued
// before what the phone does now; with --answer: the behaviour's steps).
func (o *phoneSetOptions) update(fl interface{ Changed(string) bool }, stderr io.Writer) (apiclient.PhoneUpdate, error) {
	var u apiclient.PhoneUpdate
	if o.pin != "" {
		if len(o.pin) != 5 || strings.Trim(o.pin, "0123456789") != "" {
			return u, usagef("--pin: the applet PIN is 5 digits")
		}
		u.PIN = o.pin
	}
	if fl.Changed("no-pin-support") {
		u.NoPINSupport = &o.noPINSupport
	}
	if fl.Changed("no-nfc") {
		u.NoNFC = &o.noNFC
	}
	if fl.Changed("absent") {
		u.Absent = &o.absent
	}
	if o.delay < 0 || o.jitter < 0 {
		return u, usagef("--delay and --jitter must not be negative")
	}
	// step reads one answer word; "pin=DIGITS" is the pin answer with its
	// digits, as the [pin=DIGITS] keyword spells it.
	step := func(w string) person.Step {
		s := person.Step{Answer: strings.TrimSpace(strings.ToLower(w)), Delay: person.Duration(o.delay), Jitter: person.Duration(o.jitter)}
		if k, v, ok := strings.Cut(s.Answer, "="); ok && k == person.AnswerPIN {
			s.Answer, s.PIN = person.AnswerPIN, v
		}
		return s
	}
	for _, w := range append(strings.Split(o.answer, ","), o.next...) {
		if strings.TrimSpace(strings.ToLower(w)) == person.AnswerPIN {
			return u, usagef("answer pin: say which digits the person types, pin=DIGITS (--pin sets the card's PIN)")
		}
	}
	var next []person.Step
	for _, w := range o.next {
		next = append(next, step(w))
	}
	if words := strings.Split(o.answer, ","); len(words) > 1 {
		// The former sequence form, which read as "next time" to some
		// and "always" to others: still taken, with what it means.
		last := len(words) - 1
		fmt.Fprintf(stderr, "simlab: warning: --answer with a list is deprecated: say --next %s --answer %s (each of --next once, then always --answer)\n",
			strings.Join(words[:last], ","), words[last])
		for _, w := range words[:last] {
			next = append(next, step(w))
		}
		o.answer = words[last]
	}
	if o.answer == "" && len(next) == 0 {
		if !fl.Changed("delay") && !fl.Changed("jitter") && !fl.Changed("open-urls") {
			return u, nil
		}
		// Like the [delay=2s] keyword alone: approve, after the delay.
		o.answer = person.AnswerApprove
	}
	if o.answer == "" {
		// Only the next answers: queued, then the phone goes on as it did.
		if err := person.ValidateSteps(next); err != nil {
			return u, usagef("--next: %v", err)
		}
		if fl.Changed("open-urls") {
			return u, usagef("--open-urls is part of a whole script: give --answer with it")
		}
		u.Next = next
		return u, nil
	}
	b := person.Behaviour{Steps: next, Then: step(o.answer), OpenURLs: o.openURLs}
	if err := b.Validate(); err != nil {
		return u, usagef("--answer: %v", err)
	}
	u.Behaviour = &b
	return u, nil
}

func newPhoneSetCmd(a *app) *cobra.Command {
	var (
		af apiFlags
		o  phoneSetOptions
	)
	c := &cobra.Command{
		Use:   "set MSISDN",
		Short: "Script a phone: how its person answers, its PIN, its SIM and whether it is on",
		Long: `set changes one phone through PUT /api/v1/phones/{msisdn}; flags not given
stay as they were.

Answers (docs/api.md, "Answers"), for --answer and --next:
  approve      press OK, or type the right PIN
  cancel       press cancel
  ignore       never answer: the toolkit times out
  wrong-pin    type a PIN that differs from the card's (OK prompts are confirmed)
  pin=DIGITS   type these digits as the PIN, right or wrong
  busy         the phone cannot show the prompt
  back         press back
  human        a person answers on the web page's virtual handset
               (http://127.0.0.1:8775/phones/MSISDN) or through
               POST /api/v1/prompts/{id}, within the prompt's timeout

  --answer A      always A: the answer to every prompt from now on
  --next A[,B…]   next time A (then B…), once each; after them the phone
                  answers as it did before
  --next A --answer B   next time A, then always B

--delay makes each answer take that long (--delay, --jitter or --open-urls
without --answer or --next mean --answer approve).

--pin sets the applet PIN the card holds and the person types (5 digits); it
rebuilds the phone's card, so its PIN tries start again at 3. --no-pin-support
gives an applet with OK only, --no-nfc a SIM without the applet, --absent
switches the phone off (--absent=false on again). Each takes =false too.

A script set here wins over keywords in binding messages and over the
number's magic outcome, until simlab phone reset.`,
		Example: `  simlab phone set +99901000042 --answer approve --pin 24680
  simlab phone set +99901000042 --next wrong-pin
  simlab phone set +99901000042 --next wrong-pin,wrong-pin --answer approve
  simlab phone set +99901000042 --answer cancel
  simlab phone set +99901000042 --answer approve --delay 3s
  simlab phone set +99901000042 --absent`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := normalized(args[0]); err != nil {
				return err
			}
			u, err := o.update(cmd.Flags(), a.stderr)
			if err != nil {
				return err
			}
			if u.Behaviour == nil && u.Next == nil && u.PIN == "" && u.NoPINSupport == nil && u.NoNFC == nil && u.Absent == nil {
				return usagef("nothing to set: give --answer, --next, --pin, --no-pin-support, --no-nfc or --absent")
			}
			return af.onPhone(args[0], func(c *apiclient.Client, n string) error {
				p, err := c.UpdatePhone(cmd.Context(), n, u)
				if err != nil {
					return err
				}
				return printPhone(a.stdout, af.jsonOut, p)
			})
		},
	}
	af.add(c)
	f := c.Flags()
	f.StringVar(&o.answer, "answer", "", "always this answer: approve|cancel|ignore|wrong-pin|pin=DIGITS|busy|back|human")
	f.StringSliceVar(&o.next, "next", nil, "the next answers, once each (comma-separated), then as before (or --answer)")
	f.StringVar(&o.pin, "pin", "", "the applet PIN the card holds and the person types (5 digits)")
	f.BoolVar(&o.noPINSupport, "no-pin-support", false, "an applet without PIN (LoA2 only)")
	f.BoolVar(&o.noNFC, "no-nfc", false, "a SIM without the authenticator applet")
	f.BoolVar(&o.absent, "absent", false, "switch the phone off (deliveries fail as absent subscriber)")
	f.BoolVar(&o.openURLs, "open-urls", true, "whether the person opens links received by SMS")
	f.DurationVar(&o.delay, "delay", 0, "how long each answer takes")
	f.DurationVar(&o.jitter, "jitter", 0, "a random extra delay in [0, jitter) per answer")
	return c
}

func newPhoneGetCmd(a *app) *cobra.Command {
	return phoneOneCmd(a, (*apiclient.Client).Phone, "get MSISDN",
		"Show a phone: SIM identities, settings, PIN tries left, script",
		`get shows one phone (GET /api/v1/phones/{msisdn}), building it from the
numbering plan if nobody used it yet.`)
}

func newPhoneListCmd(a *app) *cobra.Command {
	var af apiFlags
	c := &cobra.Command{
		Use:   "list",
		Short: "List the phones in use (built since the server started)",
		Long: `list shows every phone the server has built so far (GET /api/v1/phones):
numbers nobody has used yet exist in the plan but are not listed.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := af.client()
			if err != nil {
				return err
			}
			phones, err := cl.Phones(cmd.Context())
			if err != nil {
				return apiFailure(err)
			}
			if af.jsonOut {
				return writeJSON(a.stdout, apiclient.PhoneList{Phones: phones, Count: len(phones)})
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "MSISDN\tMAGIC\tANSWER\tPIN\tTRIES\tNFC\tON\tINBOX\tEVENTS")
			for i := range phones {
				in := &phones[i]
				fmt.Fprintf(tw, "+%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\n", in.MSISDN, orDash(in.Magic), answerSummary(in),
					pinSummary(in), triesLeft(in), yesNo(!in.Settings.NoNFC), yesNo(!in.Settings.Absent), in.Inbox, in.Events)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%d phone(s)\n", len(phones))
			return nil
		},
	}
	af.add(c)
	return c
}

func newPhoneResetCmd(a *app) *cobra.Command {
	return phoneOneCmd(a, (*apiclient.Client).ResetPhone, "reset MSISDN",
		"Forget everything set on a phone: it starts again as the plan defines it",
		`reset (DELETE /api/v1/phones/{msisdn}) drops the phone's script, PIN,
settings, card state (PIN tries, counters), inbox and events; the phone is
rebuilt from the numbering plan and shown.`)
}

// phoneOneCmd is a command that makes one call about one phone and shows
// the phone the API returns (get, reset).
func phoneOneCmd(a *app, call func(*apiclient.Client, context.Context, string) (*apiclient.Phone, error), use, short, long string) *cobra.Command {
	var af apiFlags
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return af.onPhone(args[0], func(c *apiclient.Client, n string) error {
				p, err := call(c, cmd.Context(), n)
				if err != nil {
					return err
				}
				return printPhone(a.stdout, af.jsonOut, p)
			})
		},
	}
	af.add(c)
	return c
}

// traceDropped stands for the APDUs of a session whose trace the server
// no longer keeps.
const traceDropped = "(APDU trace no longer kept: the server keeps only its most recent sessions' traces, " +
	"10,000 unless its config says trace: {apdu_sessions: N})"

func newPhoneEventsCmd(a *app) *cobra.Command {
	var (
		af    apiFlags
		apdus bool
	)
	c := &cobra.Command{
		Use:   "events MSISDN",
		Short: "Show a phone's event log: prompts, answers, SMS in and out, sessions",
		Long: `events shows the phone's event log (GET /api/v1/phones/{msisdn}/events),
oldest first; --apdus adds the command/response APDUs of each SMS-PP
download session. The server keeps the traces of its most recent sessions
only (10,000 unless its config says trace: {apdu_sessions: N}); an older
session shows "(APDU trace no longer kept …)".`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var events []apiclient.Event
			err := af.onPhone(args[0], func(c *apiclient.Client, n string) (err error) {
				events, err = c.PhoneEvents(cmd.Context(), n)
				return err
			})
			if err != nil {
				return err
			}
			if af.jsonOut {
				return writeJSON(a.stdout, apiclient.EventList{Events: events})
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			for _, e := range events {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Time.UTC().Format("15:04:05.000"), e.Kind, e.Detail)
				if apdus {
					if e.Kind == "session" && len(e.APDUs) == 0 {
						// The fleet keeps the traces of its most recent
						// sessions only (docs/fleet.md, "Memory").
						fmt.Fprintf(tw, "\t  %s\n", traceDropped)
					}
					for _, x := range e.APDUs {
						fmt.Fprintf(tw, "\t  > %s\t%s\n\t  < %s\t%s\n", x.Command, x.C, x.Status, x.R)
					}
				}
			}
			return tw.Flush()
		},
	}
	af.add(c)
	c.Flags().BoolVar(&apdus, "apdus", false, "show the APDU trace of each session")
	return c
}

func newPhoneInboxCmd(a *app) *cobra.Command {
	var af apiFlags
	c := &cobra.Command{
		Use:   "inbox MSISDN",
		Short: "Show the text SMS a phone received (and whether it opened their links)",
		Long:  `inbox shows the phone's text messages (GET /api/v1/phones/{msisdn}/inbox), oldest first.`,
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var inbox []apiclient.InboxMessage
			err := af.onPhone(args[0], func(c *apiclient.Client, n string) (err error) {
				inbox, err = c.PhoneInbox(cmd.Context(), n)
				return err
			})
			if err != nil {
				return err
			}
			if af.jsonOut {
				return writeJSON(a.stdout, apiclient.Inbox{Messages: inbox})
			}
			for _, m := range inbox {
				link := ""
				if m.URL != "" {
					link = "  [link not opened]"
					if m.Opened {
						link = "  [link opened]"
					}
				}
				switch {
				case len(m.Missing) > 0:
					link += fmt.Sprintf("  [incomplete: part(s) %v of %d missing]", m.Missing, m.Parts)
				case m.Parts > 1:
					link += fmt.Sprintf("  [%d parts]", m.Parts)
				}
				fmt.Fprintf(a.stdout, "%s  from %s: %s%s\n", m.Received.UTC().Format("15:04:05.000"), m.From, m.Text, link)
			}
			fmt.Fprintf(a.stdout, "%d message(s)\n", len(inbox))
			return nil
		},
	}
	af.add(c)
	return c
}

// printPhone shows one phone as "key  value" lines, or as the API's JSON.
func printPhone(w io.Writer, asJSON bool, in *apiclient.Phone) error {
	if asJSON {
		return writeJSON(w, in)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("msisdn", "+"+in.MSISDN)
	row("magic", orDash(in.Magic))
	row("iccid", in.ICCID)
	row("imsi", in.IMSI)
	row("answer", answerSummary(in))
	row("scripted", yesNo(in.Scripted))
	row("open urls", yesNo(in.Behaviour.OpenURLs))
	row("pin", pinSummary(in))
	row("pin tries left", triesLeft(in))
	row("nfc sim", yesNo(!in.Settings.NoNFC))
	row("switched on", yesNo(!in.Settings.Absent))
	if in.Settings.DeliveryError {
		row("delivery", "fails permanently")
	}
	if in.Settings.SIMError {
		row("sim", "fails SMS-PP downloads")
	}
	row("inbox", fmt.Sprint(in.Inbox))
	row("events", fmt.Sprint(in.Events))
	if in.PublicKey != "" {
		row("public key", in.PublicKey)
	}
	return tw.Flush()
}

// answerSummary says what the person will answer in docs/api.md's words:
// "next wrong-pin, then always approve", or "always approve".
func answerSummary(in *apiclient.Phone) string {
	b := in.Behaviour
	var next []string
	for i, s := range b.Steps {
		if i < in.NextStep {
			continue // already used
		}
		next = append(next, stepSummary(s))
	}
	if len(next) == 0 {
		return "always " + stepSummary(b.Then)
	}
	return "next " + strings.Join(next, ", ") + ", then always " + stepSummary(b.Then)
}

func stepSummary(s person.Step) string {
	out := s.Answer
	if out == "" {
		out = "-"
	}
	if s.Delay > 0 {
		out += " after " + time.Duration(s.Delay).String()
	}
	if s.Jitter > 0 {
		out += " +" + time.Duration(s.Jitter).String() + " jitter"
	}
	return out
}

func pinSummary(in *apiclient.Phone) string {
	switch {
	case in.Settings.NoNFC:
		return "-"
	case !in.PIN.Supported:
		return "not supported"
	case in.PIN.Blocked:
		return "blocked"
	}
	return "ok"
}

func triesLeft(in *apiclient.Phone) string {
	if in.Settings.NoNFC || !in.PIN.Supported {
		return "-"
	}
	return fmt.Sprint(in.PIN.TriesLeft)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
