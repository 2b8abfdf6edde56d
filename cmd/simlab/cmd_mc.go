package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
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
	c.AddCommand(newMCLoginCmd(a), newMCSICmd(a))
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

// run runs one login with the flags' RP and prints its checked claims; a
// refusal by the gateway is an error naming its error code.
func (f *mcRPFlags) run(ctx context.Context, a *app, poll time.Duration, login func(context.Context, *mobileconnect.RP) (*mobileconnect.LoginResult, error)) error {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	r := f.rp()
	r.Poll = poll
	res, err := login(ctx, r)
	var e *mobileconnect.Error
	if errors.As(err, &e) {
		return fmt.Errorf("login refused: %s: %s", e.Code, e.Description)
	}
	if err != nil {
		return err
	}
	return writeJSON(a.stdout, map[string]any{"alg": res.Alg, "kid": res.KeyID, "claims": res.Claims})
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
			if _, err := numberFlag("to", req.MSISDN); err != nil {
				return err
			}
			return rpf.run(cmd.Context(), a, poll, func(ctx context.Context, r *mobileconnect.RP) (*mobileconnect.LoginResult, error) {
				return r.Login(ctx, req)
			})
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

func newMCSICmd(a *app) *cobra.Command {
	var (
		rpf     mcRPFlags
		req     mobileconnect.SILogin
		keyFile string
		poll    time.Duration
	)
	c := &cobra.Command{
		Use:   "si --to MSISDN [--mode async|polling] [--acr \"3 2\"] [--key FILE]",
		Short: "Run a Server-Initiated Mobile Connect login as an SP's server and print the checked id_token",
		Long: `si does what a service provider's server does for a Server-Initiated login: it
signs a request object (ES256/RS256 with --key, the demo client's published key
for the demo client, else HS256 with the client secret), posts it to
/si-authorize, then waits for the notification on a loopback listener it opens
(--mode async, mc_si_async_code) or polls the token endpoint with the SI grant
(--mode polling), and checks the id_token. It prints the claims as JSON.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if req.MSISDN == "" {
				return usagef("--to is required")
			}
			if _, err := numberFlag("to", req.MSISDN); err != nil {
				return err
			}
			if req.Mode != "async" && req.Mode != "polling" {
				return usagef("--mode %q: want async or polling", req.Mode)
			}
			switch {
			case keyFile != "":
				k, err := readSigningKey(keyFile)
				if err != nil {
					return usageError{err}
				}
				req.Key = k
			case rpf.clientID == mobileconnect.DemoClientID:
				req.Key = mobileconnect.DemoRequestKey()
			}
			return rpf.run(cmd.Context(), a, poll, func(ctx context.Context, r *mobileconnect.RP) (*mobileconnect.LoginResult, error) {
				return r.SI(ctx, req)
			})
		},
	}
	rpf.add(c)
	f := c.Flags()
	f.StringVar(&req.MSISDN, "to", "", "the subscriber's number (login_hint MSISDN:…)")
	f.StringVar(&req.Mode, "mode", "async", "async (mc_si_async_code, notified) or polling (mc_si_polling)")
	f.StringVar(&req.ACR, "acr", "3 2", `acr_values in order of preference: "2", "3" or "3 2"`)
	f.BoolVar(&req.Authz, "authz", false, "ask for mc_authz (needs --client-name and --context)")
	f.StringVar(&req.ClientName, "client-name", "", "client_name shown on the phone")
	f.StringVar(&req.Context, "context", "", "context shown on the phone (mc_authz)")
	f.StringVar(&req.BindingMessage, "binding-message", "", "binding_message shown on the phone")
	f.StringVar(&req.CorrelationID, "correlation-id", "", "correlation_id, echoed in the acknowledgement and notification")
	f.StringVar(&keyFile, "key", "", "PEM private key (PKCS#8 or SEC 1 EC) signing the request object; its public key must be in the client's jwks")
	f.DurationVar(&poll, "poll", time.Second, "polling interval (--mode polling)")
	return c
}

// readSigningKey reads a PEM private key (PKCS#8, SEC 1 EC or PKCS#1 RSA).
func readSigningKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("--key %s: no PEM block", path)
	}
	if k, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
	}
	if k, err := x509.ParseECPrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("--key %s: not an EC or RSA private key", path)
}
