package main

import (
	"github.com/spf13/pflag"

	"github.com/simlab-dev/simlab/simulator"
	"github.com/simlab-dev/simlab/simulator/mobileconnect"
)

// addMCFlags adds `simlab serve`'s Mobile Connect gateway flags.
func addMCFlags(f *pflag.FlagSet, mc *mobileconnect.Config) {
	f.StringVar(&mc.Issuer, "issuer", "", "Mobile Connect issuer URL, for a server behind a proxy (default http(s)://<HTTP address>/mc)")
	f.BoolVar(&mc.Disabled, "no-mobile-connect", false, "turn the Mobile Connect gateway off")
}

// mergeMCFlags copies the gateway flags that were set over the
// configuration file's values.
func mergeMCFlags(fl *pflag.FlagSet, dst *mobileconnect.Config, src mobileconnect.Config) {
	if fl.Changed("issuer") {
		dst.Issuer = src.Issuer
	}
	if fl.Changed("no-mobile-connect") {
		dst.Disabled = src.Disabled
	}
}

// addHTTPSFlags adds `simlab serve`'s HTTPS flags: they set the HTTP
// listener's TLS (the YAML's https: section), for every part it serves.
func addHTTPSFlags(f *pflag.FlagSet, h *simulator.HTTPS) {
	f.StringVar(&h.Cert, "https-cert", "", "serve HTTP over TLS with this PEM certificate (with --https-key)")
	f.StringVar(&h.Key, "https-key", "", "PEM private key for --https-cert")
	f.BoolVar(&h.SelfSigned, "https-self-signed", false, "serve HTTP over TLS with a generated self-signed certificate (test only)")
	f.StringVar(&h.SelfSignedOut, "https-self-signed-out", "", "write the generated certificate (PEM) here, for clients to trust")
}

// mergeHTTPSFlags copies the HTTPS flags that were set over the
// configuration file's values.
func mergeHTTPSFlags(fl *pflag.FlagSet, dst *simulator.HTTPS, src simulator.HTTPS) {
	if fl.Changed("https-cert") {
		dst.Cert = src.Cert
	}
	if fl.Changed("https-key") {
		dst.Key = src.Key
	}
	if fl.Changed("https-self-signed") {
		dst.SelfSigned = src.SelfSigned
	}
	if fl.Changed("https-self-signed-out") {
		dst.SelfSignedOut = src.SelfSignedOut
	}
}
