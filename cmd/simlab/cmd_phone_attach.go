package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/simulator/apiclient"
	"github.com/simlab-dev/simlab/simulator/person"
)

// newPhoneAttachCmd is `simlab phone attach`: a card in a PC/SC reader of
// the serving machine becomes a phone of the running simlab.
func newPhoneAttachCmd(a *app) *cobra.Command {
	var (
		af             apiFlags
		reader, msisdn string
		pin, answer    string
		list           bool
	)
	c := &cobra.Command{
		Use:   "attach --reader R --msisdn N [--answer approve|cancel|ignore|wrong-pin] [--pin DIGITS]",
		Short: "Make the card in a PC/SC reader a phone of the running simlab (SMPP traffic to N reaches it)",
		Long: `attach asks the running simlab (POST /api/v1/attached) to make the card in the
PC/SC reader R of the serving machine the phone behind number N: SMS to N,
from any ESME bound to simlab's SMSC, go to that card through simlab's
handset (a SIM data download becomes ENVELOPE(SMS-PP download)), and what the
card sends (SEND SHORT MESSAGE) comes back as MO. Prompts are answered as
--answer says (default approve) with --pin (default 12345).

simlab follows the reader (PC/SC GetStatusChange): with the card pulled out
N is an absent subscriber (the SMSC retries until the message's validity
ends); a card put back is powered on and used again. The number wins over
the fleet's plan and over bearers until ` + "`simlab phone detach N`" + `.

--list shows the attached readers (GET /api/v1/attached).`,
		Example: `  simlab phone attach --reader "Virtual PCD 00 00" --msisdn +4930123456
  simlab phone attach --list
  simlab phone detach +4930123456`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := af.client()
			if err != nil {
				return err
			}
			if list {
				attached, err := cl.Attachments(cmd.Context())
				if err != nil {
					return apiFailure(err)
				}
				if af.jsonOut {
					return writeJSON(a.stdout, apiclient.AttachmentList{Attached: attached})
				}
				if len(attached) == 0 {
					fmt.Fprintln(a.stdout, "no readers attached")
				}
				for _, r := range attached {
					fmt.Fprintln(a.stdout, describeAttachment(r))
				}
				return nil
			}
			if reader == "" || msisdn == "" {
				return usagef("--reader and --msisdn are required (or --list)")
			}
			n, err := numberFlag("msisdn", msisdn)
			if err != nil {
				return err
			}
			switch answer {
			case "", person.AnswerApprove, person.AnswerCancel, person.AnswerIgnore, person.AnswerWrongPIN, person.AnswerHuman:
			default:
				return usagef("--answer %q: want approve, cancel, ignore, wrong-pin or human", answer)
			}
			ra, err := cl.Attach(cmd.Context(), apiclient.AttachRequest{MSISDN: n, Reader: reader, PIN: pin, Answer: answer})
			if err != nil {
				return apiFailure(err)
			}
			if af.jsonOut {
				return writeJSON(a.stdout, ra)
			}
			fmt.Fprintln(a.stdout, describeAttachment(*ra))
			return nil
		},
	}
	af.add(c)
	f := c.Flags()
	f.StringVar(&reader, "reader", "", `PC/SC reader on the serving machine, e.g. "Virtual PCD 00 00"`)
	f.StringVar(&msisdn, "msisdn", "", "the number SMPP traffic reaches the card by")
	f.StringVar(&pin, "pin", "", "the applet PIN the person types (default 12345)")
	f.StringVar(&answer, "answer", "", "what the person does with every prompt: approve (default), cancel, ignore, wrong-pin, human (answer on the web page)")
	f.BoolVar(&list, "list", false, "list the attached readers instead")
	return c
}

// newPhoneDetachCmd is `simlab phone detach`.
func newPhoneDetachCmd(a *app) *cobra.Command {
	var af apiFlags
	c := &cobra.Command{
		Use:   "detach MSISDN",
		Short: "Stop using the card attached to MSISDN (simlab phone attach)",
		Long: `detach (DELETE /api/v1/attached/{msisdn}) stops following the reader attached
to MSISDN; the number goes back to the fleet's plan or a bearer.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := normalized(args[0])
			if err != nil {
				return err
			}
			cl, err := af.client()
			if err != nil {
				return err
			}
			if err := cl.Detach(cmd.Context(), n); err != nil {
				return apiFailure(err)
			}
			if af.jsonOut {
				return writeJSON(a.stdout, apiclient.Detached{MSISDN: n, Detached: true})
			}
			fmt.Fprintf(a.stdout, "+%s detached\n", n)
			return nil
		},
	}
	af.add(c)
	return c
}

func describeAttachment(r apiclient.ReaderAttachment) string {
	state := "no card (absent)"
	if r.Present {
		state = "card present"
	}
	s := fmt.Sprintf("+%s ← %q: %s", r.MSISDN, r.Reader, state)
	if r.Error != "" {
		s += "; stopped: " + r.Error
	}
	return s
}
