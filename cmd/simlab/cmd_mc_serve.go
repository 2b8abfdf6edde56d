package main

import (
	"github.com/spf13/pflag"

	"github.com/simlab-dev/simlab/simulator/mobileconnect"
)

// addMCFlags adds `simlab serve`'s Mobile Connect gateway flags.
func addMCFlags(f *pflag.FlagSet, mc *mobileconnect.Config) {
	f.StringVar(&mc.Issuer, "issuer", "", "Mobile Connect issuer URL, for a server behind a proxy (default http(s)://<HTTP address>/mc)")
	f.StringVar(&mc.TLSCert, "https-cert", "", "serve HTTP over TLS with this PEM certificate (with --https-key)")
	f.StringVar(&mc.TLSKey, "https-key", "", "PEM private key for --https-cert")
	f.BoolVar(&mc.TLSSelfSigned, "https-self-signed", false, "serve HTTP over TLS with a generated self-signed certificate (test only)")
	f.StringVar(&mc.TLSSelfSignedOut, "https-self-signed-out", "", "write the generated certificate (PEM) here, for clients to trust")
	f.BoolVar(&mc.Disabled, "no-mobile-connect", false, "turn the Mobile Connect gateway off")
}

// mergeMCFlags copies the gateway flags that were set over the
// configuration file's values.
func mergeMCFlags(fl *pflag.FlagSet, dst *mobileconnect.Config, src mobileconnect.Config) {
	if fl.Changed("issuer") {
		dst.Issuer = src.Issuer
	}
	if fl.Changed("https-cert") {
		dst.TLSCert = src.TLSCert
	}
	if fl.Changed("https-key") {
		dst.TLSKey = src.TLSKey
	}
	if fl.Changed("https-self-signed") {
		dst.TLSSelfSigned = src.TLSSelfSigned
	}
	if fl.Changed("https-self-signed-out") {
		dst.TLSSelfSignedOut = src.TLSSelfSignedOut
	}
	if fl.Changed("no-mobile-connect") {
		dst.Disabled = src.Disabled
	}
}
