package main

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/simlab-dev/simlab/simulator/fleet"
)

// Checks of flag values that are usage errors (exit 2) when wrong, made
// before anything is dialled or sent: a typo in a CI script must not look
// like an SMSC that is down.

// numberFlag checks the phone number given to flag name and returns it
// normalised (digits: a leading + or 00, spaces and dashes dropped).
func numberFlag(name, v string) (string, error) {
	n, err := fleet.Normalize(v)
	if err != nil {
		return "", usagef("--%s %q: not a phone number (digits, + first for an international one)", name, v)
	}
	return n, nil
}

// addrFlag checks a host:port given to flag name.
func addrFlag(name, v string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return usagef("--%s %q: want host:port, such as 127.0.0.1:2775", name, v)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		if _, err := net.LookupPort("tcp", port); err != nil {
			return usagef("--%s %q: port %q is not a port number", name, v, port)
		}
	}
	return nil
}

// deprecatedFlag adds old as a hidden alias of the flag name already
// defined in fs: it sets the same value and warns on stderr that old is
// deprecated, so that scripts written for the old name go on working while
// help shows one name.
func deprecatedFlag(a *app, fs *pflag.FlagSet, old, name string) {
	nf := fs.Lookup(name)
	if nf == nil {
		panic("deprecatedFlag: no flag --" + name)
	}
	f := fs.VarPF(&aliasValue{Value: nf.Value, warn: func() {
		fmt.Fprintf(a.stderr, "simlab: warning: --%s is deprecated: use --%s\n", old, name)
	}}, old, "", "deprecated: use --"+name)
	f.NoOptDefVal = nf.NoOptDefVal
	f.Hidden = true
}

// aliasValue is the Value of a deprecated flag: the new flag's, with a
// warning when set.
type aliasValue struct {
	pflag.Value
	warn func()
}

func (v *aliasValue) Set(s string) error {
	v.warn()
	return v.Value.Set(s)
}

// sourceFlag checks a source address: a number (at most 20 digits, the
// most SMPP 3.4's source_addr holds) or an alphanumeric sender of at most
// 11 characters (3GPP TS 23.040 §9.1.2.5).
func sourceFlag(name, v string) error {
	if n, err := fleet.Normalize(v); err == nil {
		if len(n) > 20 {
			return usagef("--%s %q: a number of at most 20 digits", name, v)
		}
		return nil
	}
	if v == "" || len(v) > 11 {
		return usagef("--%s %q: want a number or an alphanumeric sender of 1 to 11 characters", name, v)
	}
	return nil
}

// e164 writes a number the one way simlab prints numbers: E.164 with "+".
func e164(n string) string {
	if n == "" {
		return ""
	}
	return "+" + strings.TrimPrefix(n, "+")
}
