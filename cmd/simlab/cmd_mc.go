package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/simlab-dev/simlab/simulator/mobileconnect"
)

func init() { register(newMCCmd) }

// mcClientSecretEnv names the environment variable `simlab mc` reads the
// client secret from when --client-secret is not given.
const mcClientSecretEnv = "SIMLAB_MC_CLIENT_SECRET"

func newMCCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "mc",
		Short: "Act as a Mobile Connect relying party against the gateway (docs/mobile-connect.md)",
	}
	c.AddCommand(newMCLoginCmd(a))
	return c
}

// mcRPFlags are the relying party's flags, shared by mc subcommands.
type mcRPFlags struct {
	issuer, clientID, clientSecret, redirect string
	timeout                                  time.Duration
}

func (f *mcRPFlags) add(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.issuer, "issuer", "http://127.0.0.1:8775/mc", "the gateway's issuer URL")
	fl.StringVar(&f.clientID, "client-id", mobileconnect.DemoClientID, "client_id (default: the built-in demo client)")
	fl.StringVar(&f.clientSecret, "client-secret", "", "client secret (default $"+mcClientSecretEnv+", else the demo client's)")
	fl.StringVar(&f.redirect, "redirect-uri", "http://127.0.0.1:9/callback", "registered redirect_uri (read from the redirect, never fetched)")
	fl.DurationVar(&f.timeout, "timeout", 2*time.Minute, "give up after this long")
}

func (f *mcRPFlags) rp() *mobileconnect.RP {
	secret := f.clientSecret
	if secret == "" {
		secret = os.Getenv(mcClientSecretEnv)
	}
	if secret == "" && f.clientID == mobileconnect.DemoClientID {
		secret = mobileconnect.DemoClientSecret
	}
	return &mobileconnect.RP{Issuer: f.issuer, ClientID: f.clientID, ClientSecret: secret, RedirectURI: f.redirect}
}

func newMCLoginCmd(a *app) *cobra.Command {
	var (
		rpf  mcRPFlags
		req  mobileconnect.LoginRequest
		poll time.Duration
	)
	c := &cobra.Command{
		Use:   "login --to MSISDN [--acr \"3 2\"] [--authz --client-name N --context C] [--binding-message B]",
		Short: "Run a whole Mobile Connect code flow as an RP and print the checked id_token",
		Long: `login does what a service provider's backend does: it reads the gateway's
discovery, sends the phone's number as login_hint to /authorize, polls it
headless (as the GSMA SDKs do) while the phone is asked, exchanges the code at
/token, and checks the id_token (signature through jwks_uri, iss, aud, azp,
exp, nonce, acr, at_hash, hashed_login_hint). It prints the claims as JSON.
A refused login exits 1 with the gateway's error and error_description.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if req.MSISDN == "" {
				return usagef("--to is required")
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), rpf.timeout)
			defer cancel()
			r := rpf.rp()
			r.Poll = poll
			res, err := r.Login(ctx, req)
			var e *mobileconnect.Error
			if errors.As(err, &e) {
				return fmt.Errorf("login refused: %s: %s", e.Code, e.Description)
			}
			if err != nil {
				return err
			}
			return writeJSON(a.stdout, map[string]any{"alg": res.Alg, "kid": res.KeyID, "claims": res.Claims})
		},
	}
	rpf.add(c)
	f := c.Flags()
	f.StringVar(&req.MSISDN, "to", "", "the subscriber's number (login_hint MSISDN:…)")
	f.StringVar(&req.ACR, "acr", "3 2", `acr_values in order of preference: "2", "3" or "3 2"`)
	f.BoolVar(&req.Authz, "authz", false, "ask for mc_authz (needs --client-name and --context)")
	f.StringVar(&req.ClientName, "client-name", "", "client_name shown on the phone (one the client may use)")
	f.StringVar(&req.Context, "context", "", "context shown on the phone (mc_authz)")
	f.StringVar(&req.BindingMessage, "binding-message", "", "binding_message shown on the phone")
	f.StringVar(&req.Version, "version", "mc_di_r2_v2.3", "Mobile Connect version")
	f.DurationVar(&poll, "poll", time.Second, "headless re-GET interval while the phone is asked")
	return c
}
