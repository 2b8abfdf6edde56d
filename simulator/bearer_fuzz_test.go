package simulator

import (
	"strings"
	"testing"
)

// FuzzParseUpstream: any specification parses or fails cleanly, and the
// password never shows in an error.
func FuzzParseUpstream(f *testing.F) {
	for _, s := range []string{
		"smpp://u:p@127.0.0.1:2775", "smpps://esme:p%40ss@smsc.example:3550?system_type=OTA",
		"smpp://u@h:1", "smpp://:secret@h", "modem:/dev/ttyUSB0", "smpp://[::1]:2775", "%", "smpp://u:se@cret@h:2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		cfg, err := ParseUpstream(spec)
		if err != nil {
			if cfg.Password != "" {
				t.Fatalf("error %v with a config", err)
			}
			return
		}
		if cfg.Addr == "" {
			t.Fatalf("ParseUpstream(%q) = no address", spec)
		}
		if len(cfg.Password) >= 4 && strings.Contains(redactSpec(spec), cfg.Password) && !strings.Contains(cfg.Addr+cfg.SystemID, cfg.Password) {
			t.Fatalf("redactSpec(%q) keeps the password", spec)
		}
	})
}

// FuzzParseAttach: READER=MSISDN splits at the last '='.
func FuzzParseAttach(f *testing.F) {
	for _, s := range []string{"Virtual PCD 00 00=+4930123456", "a=b=c", "=", "x="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAttach(s)
		if err != nil {
			return
		}
		if a.Reader == "" || a.MSISDN == "" || a.Reader+"="+a.MSISDN != s || strings.Contains(a.MSISDN, "=") {
			t.Fatalf("ParseAttach(%q) = %+v", s, a)
		}
	})
}
