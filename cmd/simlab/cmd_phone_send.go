package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/simulator/apiclient"
)

func newPhoneSendCmd(a *app) *cobra.Command {
	var (
		af       apiFlags
		to, text string
	)
	c := &cobra.Command{
		Use:   "send MSISDN --to ADDR --text TEXT",
		Short: "Make a phone send an SMS (mobile originated), routed to the ESME that owns the address",
		Long: `send makes an emulated phone text an address, as its owner would
(POST /api/v1/phones/{msisdn}/sms): the phone sends SMS-SUBMIT into the
network and the SMSC routes it like any MO message, to the ESME whose account
(MO ranges) or bind (address_range) owns the address, as deliver_sm. Use it to
test two-way flows: "reply YES", STOP, keywords.

--to is digits, + first for an international number (a short code such as
12345 without). A text that does not fit one SMS goes as concatenated parts
(at most 10). It prints the SMSC's message id of each part; read them back
with the capture API (GET /api/v1/messages?from=MSISDN).`,
		Example: `  simlab phone send +99901000042 --to 12345 --text YES
  simlab phone send +99901000042 --to +4915112345678 --text 'STOP' --json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(to) == "" {
				return usagef("--to: the address to send to is required")
			}
			if text == "" {
				return usagef("--text: the text is required")
			}
			var ids []string
			err := af.onPhone(args[0], func(c *apiclient.Client, n string) (err error) {
				ids, err = c.SendSMS(cmd.Context(), n, to, text)
				return err
			})
			if err != nil {
				return err
			}
			if af.jsonOut {
				return writeJSON(a.stdout, apiclient.IDs{IDs: ids})
			}
			for _, id := range ids {
				fmt.Fprintln(a.stdout, id)
			}
			return nil
		},
	}
	af.add(c)
	c.Flags().StringVar(&to, "to", "", "the address: digits, + first for an international number")
	c.Flags().StringVar(&text, "text", "", "the text to send")
	return c
}
