package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/applet/authn"
	"github.com/simlab-dev/simlab/applet/ota"
	"github.com/simlab-dev/simlab/applet/uicc"
	"github.com/simlab-dev/simlab/hsm"
	"github.com/simlab-dev/simlab/simulator/fleet"
	"github.com/simlab-dev/simlab/simulator/handset"
	"github.com/simlab-dev/simlab/simulator/pcsc"
	"github.com/simlab-dev/simlab/simulator/person"
	"github.com/simlab-dev/simlab/simulator/push"
)

func init() { registerCard(newCardPushCmd) }

func newCardPushCmd(a *app) *cobra.Command {
	var (
		reader, profile, loa, answer, pin, msisdn, clientName, binding string
		timeout                                                        time.Duration
		asJSON, tdes, verbose                                          bool
		kc                                                             cardKeyFlags
	)
	c := &cobra.Command{
		Use:   "push --reader R --loa 2|3|3,2 [--answer approve|cancel|ignore|wrong-pin] [--json]",
		Short: "Run a whole push challenge against the card in a PC/SC reader, simlab being the phone",
		Long: `Run one Mobile Connect push challenge against the SIM in a PC/SC reader with
simlab as the handset, without any network: seal the challenge in a TS 102 225
command packet with the card's OTA keys, deliver it as ENVELOPE(SMS-PP
download), run the SIM Toolkit session (DISPLAY TEXT for OK, GET INPUT for the
PIN), capture the answer the applet sends with SEND SHORT MESSAGE, open it and
verify its signature. The result is the JSON of ` + "`simlab push`" + `.

Keys: derived from simlab's demo masters for the card's ICCID, read from
EF_ICCID (the default fleet's rule, what ` + "`simlab card emulate`" + ` serves);
with --profile the ICCID and the applet's TAR come from that card profile.

Prompts are answered as --answer says; without --answer simlab shows the text
on the terminal and reads the answer from stdin (Enter = OK, c = cancel, or
the PIN, not echoed on a Linux terminal; lines typed before the prompt are
dropped). --pin is the PIN the person knows (default the fleet's 12345).

Needs pcscd and a simlab built with cgo (PC/SC support).`,
		Example: `  simlab card push --reader "Virtual PCD 00 00" --loa 3 --answer approve --json
  simlab card push --reader "Virtual PCD 00 00" --loa 2          # answer at the terminal
  simlab card push --reader "Virtual PCD 00 00" --loa 3 --answer wrong-pin`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if reader == "" {
				return usagef("--reader is required (see simlab card list)")
			}
			level, err := authn.ParseLoA(loa)
			if err != nil {
				return usagef("--loa: %v", err)
			}
			cfg := push.CardConfig{PIN: pin, TDES: tdes, PromptTimeout: timeout}
			switch answer {
			case "":
				out := a.stdout
				if asJSON {
					out = a.stderr
				}
				cfg.Person = &person.Interactive{In: a.stdin, Out: out, Timeout: timeout, Echo: terminalEcho(a.stdin)}
			case person.AnswerApprove, person.AnswerCancel, person.AnswerIgnore, person.AnswerWrongPIN:
				cfg.Person = person.New(person.Behaviour{Then: person.Step{Answer: answer}}, 1)
			default:
				return usagef("--answer %q: want approve, cancel, ignore or wrong-pin", answer)
			}
			if msisdn != "" {
				n, err := numberFlag("msisdn", msisdn)
				if err != nil {
					return err
				}
				cfg.MSISDN = n
			}
			if profile != "" {
				p, err := uicc.LoadProfile(profile)
				if err != nil {
					return err
				}
				cfg.ICCID = p.ICCID
				for _, ap := range p.Applets {
					if ap.Name == "authn" && len(ap.TARs) > 0 && len(ap.TARs[0].TAR) == 3 {
						cfg.TAR = ota.TAR(ap.TARs[0].TAR)
					}
				}
			}
			if kc.hsmURI != "" {
				if err := kc.apply(ctx, &cfg); err != nil {
					return err
				}
				defer cfg.Keystore.Close()
			} else if kc.kicRef != "" || kc.kidRef != "" {
				return usagef("--kic-ref and --kid-ref need --hsm")
			}
			if verbose {
				cfg.Event = func(e handset.Event) { fmt.Fprintf(a.stderr, "simlab: %s: %s\n", e.Kind, e.Detail) }
			}
			card, err := pcsc.Open(ctx, reader)
			if err != nil {
				return err
			}
			defer card.Close()
			cfg.Card = card
			res, err := push.ChallengeCard(ctx, cfg, push.Request{
				LoA: level, ClientName: clientName, BindingMessage: binding, Timeout: timeout,
			})
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.stdout, res)
			}
			acr := "-"
			if res.ACR != nil {
				acr = *res.ACR
			}
			fmt.Fprintf(a.stdout, "%s: outcome %s, acr %s, signature valid %v, %.1f ms (transaction %s)\n",
				reader, res.Outcome, acr, res.SignatureValid, res.LatencyMS, res.TransactionID)
			if res.TriesLeft != nil {
				fmt.Fprintf(a.stdout, "PIN tries left: %d\n", *res.TriesLeft)
			}
			if res.Detail != "" {
				fmt.Fprintf(a.stdout, "detail: %s\n", res.Detail)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&reader, "reader", "", `PC/SC reader holding the card, e.g. "Virtual PCD 00 00" (required)`)
	f.StringVar(&profile, "profile", "", "card profile YAML: take the ICCID and the applet's TAR from it instead of reading the card")
	f.StringVar(&loa, "loa", "", `level of assurance: 2 (OK), 3 (PIN) or "3,2" (PIN, OK without PIN support) (required)`)
	f.StringVar(&answer, "answer", "", "answer every prompt: approve, cancel, ignore or wrong-pin (default: ask at the terminal)")
	f.StringVar(&pin, "pin", fleet.DefaultPIN, "the PIN the person knows and types to approve")
	f.StringVar(&msisdn, "msisdn", "", "the card's number, reported in the result")
	f.StringVar(&clientName, "client-name", "simlab", "client_name shown on the prompt")
	f.StringVar(&binding, "binding-message", "", "binding_message shown on the prompt")
	f.DurationVar(&timeout, "timeout", 60*time.Second, "prompt timeout sent to the card; the answer is awaited 10 s longer")
	f.BoolVar(&tdes, "tdes", false, "use the 3DES keyset (key index 2) instead of AES (1)")
	f.BoolVar(&verbose, "verbose", false, "log the handset's steps (prompts, answers, SMS) to stderr")
	f.StringVar(&kc.hsmURI, "hsm", "", "key store holding the card's own OTA keys (mem:, soft:PATH, pkcs11:…); default: the demo keys derived for the card's ICCID")
	f.StringVar(&kc.kicRef, "kic-ref", "", "label of the card's ciphering key (KIc) in --hsm")
	f.StringVar(&kc.kidRef, "kid-ref", "", "label of the card's checksum key (KID) in --hsm")
	f.StringVar(&kc.kic, "kic", "12", "KIc byte with --hsm: key index and algorithm (TS 102 225 §5.1.2), e.g. 12 = index 1 AES, 15 = 3DES 2-key")
	f.StringVar(&kc.kid, "kid", "12", "KID byte with --hsm")
	f.StringVar(&kc.spi, "spi", "1639", "SPI of the command packet (two bytes, hex)")
	f.StringVar(&kc.pub, "card-public-key", "", "the card's P-256 public key (hex, compressed or uncompressed) to verify its signature with --hsm")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON (same shape as simlab push --json)")
	return c
}

// cardKeyFlags name a real card's own keys in a key store (--hsm …), for
// cards whose keys simlab does not derive. apply opens the store into
// cfg.Keystore; the caller closes it.
type cardKeyFlags struct {
	hsmURI, kicRef, kidRef, kic, kid, spi, pub string
}

func (k cardKeyFlags) apply(ctx context.Context, cfg *push.CardConfig) error {
	if k.kicRef == "" && k.kidRef == "" {
		return usagef("--hsm needs --kic-ref and/or --kid-ref")
	}
	// The same hex parsing as simlab ota's header flags ("16 39" works).
	kic, err := otaHex("--kic", k.kic, 1)
	if err != nil {
		return err
	}
	kid, err := otaHex("--kid", k.kid, 1)
	if err != nil {
		return err
	}
	spiB, err := otaHex("--spi", k.spi, 2)
	if err != nil {
		return err
	}
	card := &push.Card{Keys: ota.Keys{KIc: k.kicRef, KID: k.kidRef}, KIc: ota.KIc(kic[0]), KID: ota.KID(kid[0])}
	if k.pub != "" {
		b, err := otaHex("--card-public-key", k.pub, -1)
		if err != nil {
			return err
		}
		if card.Public, err = authn.ParsePublicKey(b); err != nil {
			return usagef("--card-public-key: %v", err)
		}
	}
	ks, err := hsm.Open(ctx, k.hsmURI)
	if err != nil {
		return err
	}
	spi := ota.ParseSPI(spiB[0], spiB[1])
	cfg.Keystore, cfg.Keys, cfg.SPI = ks, card, &spi
	return nil
}
